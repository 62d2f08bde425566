package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.Outcome;
import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.artifact.ArtifactStore;
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
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one job from {@code starting} to its end: sandbox, daemon, agent loop, zip; and whatever
 * happens, kills the sandbox and removes its workspace afterwards.
 */
public final class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
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

    /** Runs a job that this replica has just moved to {@code starting}. */
    void run(String jobId) {
        var workspace = workspaces.resolve(jobId);
        sessions.expect(jobId);
        Sandbox sandbox = null;
        try {
            var job = store.find(jobId).orElseThrow();
            Files.createDirectories(workspace);
            var token = tokens.issue(jobId, Instant.now().plus(tokenLifetime));
            sandbox = launcher.launch(new SandboxSpec(jobId, token, workspace));
            DaemonWait.await(jobId, sandbox, sessions, readyTimeout);
            if (!store.transition(jobId, JobStatus.RUNNING, null, Map.of()).applied()) {
                return;
            }
            var tools = new SandboxToolRunner(jobId, sandbox, sessions);
            switch (agent.run(job, tools)) {
                case Outcome.Finished finished -> complete(jobId, tools, finished.summary());
                case Outcome.Failed failed -> fail(jobId, failed.reason());
            }
        } catch (LaunchException e) {
            fail(jobId, "the sandbox could not be started: " + e.getMessage());
        } catch (SandboxLostException e) {
            fail(jobId, "the sandbox was lost: " + e.getMessage());
        } catch (InterruptedException e) {
            // Cancelled (then the job is already cancelled and this is refused) or shutting down.
            Thread.interrupted();
            fail(jobId, "the control plane shut down while the job ran");
        } catch (Exception e) {
            log.error("Job {} failed unexpectedly", jobId, e);
            Thread.interrupted();
            fail(jobId, "internal error: " + e.getMessage());
        } finally {
            // Clean up even when interrupted: the sandbox must not outlive its job.
            Thread.interrupted();
            sessions.forget(jobId, "the job has ended");
            if (sandbox != null) {
                sandbox.close();
            }
            deleteRecursively(workspace);
        }
    }

    private void complete(String jobId, ToolRunner tools, String summary) throws Exception {
        var digest = sha256();
        long[] received = {0};
        try (var upload = artifacts.begin(jobId)) {
            var result = tools.run(ToolCall.newBuilder().setCallId("archive")
                    .setArchive(ArchiveAction.getDefaultInstance()).build(), ARCHIVE_TIMEOUT, event -> {
                        if (event.hasArchiveChunk()) {
                            var bytes = event.getArchiveChunk().toByteArray();
                            digest.update(bytes);
                            received[0] += bytes.length;
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

    private void fail(String jobId, String reason) {
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
