package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.Outcome;
import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.ArchiveAction;
import io.nomadshell.proto.v1.ArtifactReady;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.ToolCall;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one job from {@code starting} to its end: sandbox, daemon, agent loop, zip; and whatever
 * happens, kills the sandbox afterwards and, once the job has ended, removes its workspace.
 *
 * <p>A job found {@code running} is one whose control plane stopped: it gets a new sandbox on the
 * same workspace and its loop goes on from the transcript. When this control plane stops, the jobs
 * it runs are left as they are (workspace kept) for the next one to resume.
 */
public final class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** Room for the zip's own directory and headers beyond the workspace's size. */
    private static final long ZIP_SLACK_MB = 16;
    private static final Duration ARCHIVE_TIMEOUT = Duration.ofMinutes(10);

    private final JobStore store;
    private final SandboxLauncher launcher;
    private final SessionRegistry sessions;
    private final JobTokens tokens;
    private final ArtifactStore artifacts;
    private final AgentLoop agent;
    private final Path workspaces;
    private final Duration readyTimeout;
    private final Duration tokenLifetime;
    private volatile boolean stopping;
    private final Set<String> handedOver = ConcurrentHashMap.newKeySet();

    public JobRunner(JobStore store, SandboxLauncher launcher, SessionRegistry sessions, JobTokens tokens,
            ArtifactStore artifacts, AgentLoop agent, Path workspaces, Duration readyTimeout, Duration tokenLifetime) {
        this.store = requireNonNull(store, "store");
        this.launcher = requireNonNull(launcher, "launcher");
        this.sessions = requireNonNull(sessions, "sessions");
        this.tokens = requireNonNull(tokens, "tokens");
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.agent = requireNonNull(agent, "agent");
        this.workspaces = requireNonNull(workspaces, "workspaces");
        this.readyTimeout = requireNonNull(readyTimeout, "readyTimeout");
        this.tokenLifetime = requireNonNull(tokenLifetime, "tokenLifetime");
    }

    /** From now on, jobs interrupted are left for another start to resume, not failed. */
    void stopping() {
        stopping = true;
    }

    /** This replica lost the job's lease: the job is another's now; stop it here without failing it. */
    void handOver(String jobId) {
        handedOver.add(jobId);
    }

    private boolean leaving(String jobId) {
        return stopping || handedOver.contains(jobId);
    }

    /** Runs a job that this replica has just moved to {@code starting}, or resumes one it took over in {@code running}. */
    void run(String jobId) {
        var workspace = workspaces.resolve(jobId);
        sessions.expect(jobId);
        Sandbox sandbox = null;
        JobDeadline deadline = null;
        try {
            var job = store.find(jobId).orElseThrow();
            var resuming = job.status() == JobStatus.RUNNING;
            if (resuming && !Files.isDirectory(workspace)) {
                fail(jobId, "the job's workspace is gone, so it cannot be resumed after its control plane stopped");
                return;
            }
            if (resuming) {
                log.info("Resuming job {} from its transcript", jobId);
            }
            Files.createDirectories(workspace);
            var token = tokens.issue(jobId, Instant.now().plus(tokenLifetime));
            sandbox = launcher.launch(new SandboxSpec(jobId, token, workspace, job.owner(), job.task(), job.sandbox()));
            DaemonWait.await(jobId, sandbox, sessions, readyTimeout);
            if (!resuming && !store.transition(jobId, JobStatus.RUNNING, null, Map.of()).applied()) {
                return;
            }
            var inSandbox = new SandboxToolRunner(jobId, sandbox, sessions);
            // Once this control plane stops, a result may be the stop's doing (a broken stream): it is
            // not recorded, and the call counts as interrupted for the next start to resume.
            ToolRunner tools = (call, timeout, events) -> {
                var result = inSandbox.run(call, timeout, events);
                if (leaving(jobId)) {
                    throw new InterruptedException("the job is leaving this control plane");
                }
                return result;
            };
            deadline = JobDeadline.start(job.sandbox().timeout(), job.startedAt() != null ? job.startedAt() : Instant.now());
            var outcome = agent.run(job, tools);
            deadline.close();
            switch (outcome) {
                case Outcome.Finished finished -> complete(jobId, tools, finished.summary(), maxZipBytes(job));
                case Outcome.Failed failed -> fail(jobId, failed.reason());
            }
        } catch (LaunchException e) {
            fail(jobId, "the sandbox could not be started: " + e.getMessage());
        } catch (SandboxLostException e) {
            fail(jobId, "the sandbox was lost: " + e.getMessage());
        } catch (InterruptedException e) {
            // Out of time, cancelled (then the job is already cancelled and this is refused), or shutting down.
            Thread.interrupted();
            fail(jobId, deadline != null && deadline.expired() ? deadline.reason()
                    : "the control plane shut down while the job ran");
        } catch (Exception e) {
            Thread.interrupted();
            if (deadline != null && deadline.expired()) {
                fail(jobId, deadline.reason());
            } else {
                log.error("Job {} failed unexpectedly", jobId, e);
                fail(jobId, "internal error: " + e.getMessage());
            }
        } finally {
            // Clean up even when interrupted: the sandbox must not outlive its job.
            if (deadline != null) {
                deadline.close();
            }
            Thread.interrupted();
            sessions.forget(jobId, "the job has ended");
            if (sandbox != null) {
                sandbox.close();
            }
            if (store.find(jobId).map(job -> job.status().isTerminal()).orElse(true)) {
                deleteRecursively(workspace);
            }
            handedOver.remove(jobId);
        }
    }

    /**
     * A zip holds no more than its workspace, which its disk caps, but for what a zip stores whole:
     * hard links and sparse files. Past this the upload stops, so the host never stores more.
     */
    private static long maxZipBytes(Job job) {
        return (job.sandbox().diskMb() + ZIP_SLACK_MB) * (1L << 20);
    }

    private void complete(String jobId, ToolRunner tools, String summary, long maxZipBytes) throws Exception {
        var digest = sha256();
        long[] received = {0};
        try (var upload = artifacts.begin(jobId)) {
            var result = tools.run(ToolCall.newBuilder().setCallId("archive")
                    .setArchive(ArchiveAction.getDefaultInstance()).build(), ARCHIVE_TIMEOUT, event -> {
                        if (event.hasArchiveChunk()) {
                            var bytes = event.getArchiveChunk().toByteArray();
                            digest.update(bytes);
                            received[0] += bytes.length;
                            if (received[0] > maxZipBytes) {
                                return; // counted, never stored: the job fails below
                            }
                            try {
                                upload.write(bytes);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }
                    });
            if (!result.getError().isEmpty()) {
                fail(jobId, "the workspace could not be archived: " + result.getError());
                return;
            }
            if (received[0] > maxZipBytes) {
                fail(jobId, "the workspace's zip grew past " + (maxZipBytes >> 20) + " MiB, more than the job's disk "
                        + "holds (a zip stores hard links and sparse files whole)");
                return;
            }
            var sha256 = HexFormat.of().formatHex(digest.digest());
            if (received[0] != result.getArchive().getBytes() || !sha256.equals(result.getArchive().getSha256())) {
                fail(jobId, "the zip arrived damaged (" + received[0] + " of " + result.getArchive().getBytes() + " bytes)");
                return;
            }
            upload.commit();
            // The zip is stored: say so before the terminal status, which must be the job's last event
            // (a watcher stops once the job has ended and it has seen every event).
            store.appendEvent(jobId, JobEvent.newBuilder().setArtifactReady(ArtifactReady.newBuilder()
                    .setDownloadUrl("/download/" + jobId).setBytes(received[0]).setSha256(sha256)));
            store.transition(jobId, JobStatus.COMPLETE, null,
                    Map.of("artifact_bytes", Long.toString(received[0]), "artifact_sha256", sha256, "summary", summary));
        } catch (TimeoutException e) {
            fail(jobId, "the workspace could not be archived within " + ARCHIVE_TIMEOUT.toMinutes() + " min");
        }
    }

    /** Fails the job, unless it is leaving this control plane: then it stays for its next owner to resume. */
    private void fail(String jobId, String reason) {
        if (leaving(jobId)) {
            log.info("Job {} is left for its next owner to resume ({})", jobId, reason);
            return;
        }
        if (store.transition(jobId, JobStatus.ERROR, reason, Map.of()).applied()) {
            log.info("Job {} failed: {}", jobId, reason);
        }
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log.warn("Could not remove workspace {}: {}", root, e.getMessage());
        }
    }
}
