package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.store.SessionStore;
import io.nomadshell.controlplane.store.SessionStore.Checkpoint;
import io.nomadshell.proto.v1.CheckpointAction;
import io.nomadshell.proto.v1.RestoreAction;
import io.nomadshell.proto.v1.ToolCall;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a job's workspace after each step as a checkpoint, and puts a checkpoint back into a new
 * sandbox. The daemon commits the workspace to a repository of its own and sends a bundle of what the
 * control plane lacks (the commits after the newest one it was told this side holds, or everything);
 * the bundle is fetched into the job's {@link io.nomadshell.controlplane.artifact.CheckpointRepository}
 * and the checkpoint recorded in Redis. A checkpoint that fails is logged and skipped: the job goes on,
 * and that step cannot be rolled back to.
 */
final class Checkpointer {
    private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);
    private static final int CHUNK_BYTES = 1024 * 1024;
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(5);
    /** Room for a bundle's headers beyond the workspace's size. */
    private static final long BUNDLE_SLACK = 16L << 20;

    private final ArtifactStore artifacts;
    private final SessionStore sessions;
    /** Per job running here: the newest commit its sandbox's daemon and this side both hold. */
    private final Map<String, String> shared = new ConcurrentHashMap<>();

    Checkpointer(ArtifactStore artifacts, SessionStore sessions) {
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.sessions = requireNonNull(sessions, "sessions");
    }

    /**
     * Keeps the workspace as it is after {@code step}; empty when kept, else why not in words.
     *
     * @throws InterruptedException when the job is cancelled or stops meanwhile
     */
    Optional<String> take(Job job, int step, ToolRunner sandbox) throws InterruptedException, SandboxLostException {
        var jobId = job.id();
        var base = shared.getOrDefault(jobId, "");
        var budget = budget(job);
        var cap = Math.min(job.sandbox().diskMb() * (1L << 20) + BUNDLE_SLACK, budget - sessions.checkpointBytes(jobId));
        try {
            var bundle = artifacts.bundleFile(jobId);
            try {
                var received = new long[1];
                try (OutputStream out = Files.newOutputStream(bundle)) {
                    var result = sandbox.run(ToolCall.newBuilder().setCallId("checkpoint-" + step)
                            .setCheckpoint(CheckpointAction.newBuilder().setStep(step).setBase(base)).build(),
                            CALL_TIMEOUT, event -> {
                                if (!event.hasBundleChunk() || received[0] > cap) {
                                    return;
                                }
                                received[0] += event.getBundleChunk().size();
                                try {
                                    event.getBundleChunk().writeTo(out);
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
                    if (!result.getError().isEmpty()) {
                        return failed(jobId, step, result.getError());
                    }
                    if (received[0] > cap) {
                        return failed(jobId, step, "it would take the job's checkpoints past " + (budget >> 20)
                                + " MiB (twice its disk), so it and later ones are not kept");
                    }
                    var done = result.getCheckpoint();
                    if (received[0] != done.getBundleBytes()) {
                        return failed(jobId, step, "its bundle arrived damaged (" + received[0] + " of "
                                + done.getBundleBytes() + " bytes)");
                    }
                    out.close();
                    artifacts.checkpoints(jobId).keep(step, done.getCommit(), received[0] == 0 ? null : bundle);
                    shared.put(jobId, done.getCommit());
                    sessions.recordCheckpoint(jobId, new Checkpoint(step, done.getCommit(), done.getFiles(), Instant.now()),
                            received[0]);
                    return Optional.empty();
                }
            } finally {
                Files.deleteIfExists(bundle);
            }
        } catch (TimeoutException e) {
            return failed(jobId, step, "the daemon did not answer within " + WorkspaceArchiver.words(CALL_TIMEOUT));
        } catch (IOException | UncheckedIOException e) {
            return failed(jobId, step, e.getMessage());
        }
    }

    /**
     * Puts the checkpoint of {@code step} back into the job's new sandbox (its workspace emptied first);
     * empty when done, else why not in words.
     */
    Optional<String> restore(Job job, int step, ToolRunner sandbox)
            throws InterruptedException, SandboxLostException, IOException, TimeoutException {
        var jobId = job.id();
        var repository = artifacts.checkpoints(jobId);
        if (!repository.exists() || sessions.checkpoint(jobId, step).isEmpty()) {
            return Optional.of("no checkpoint of step " + step + " is kept");
        }
        var bundle = artifacts.bundleFile(jobId);
        try {
            var commit = repository.bundle(step, bundle);
            long size = Files.size(bundle);
            long offset = 0;
            try (var in = Files.newInputStream(bundle)) {
                var buffer = new byte[CHUNK_BYTES];
                do {
                    int read = in.readNBytes(buffer, 0, buffer.length);
                    var last = offset + read >= size;
                    var result = sandbox.run(ToolCall.newBuilder().setCallId("restore-" + offset)
                            .setRestore(RestoreAction.newBuilder().setOffset(offset)
                                    .setData(ByteString.copyFrom(buffer, 0, read)).setLast(last).setCommit(commit))
                            .build(), CALL_TIMEOUT, event -> { });
                    if (!result.getError().isEmpty()) {
                        return Optional.of(result.getError());
                    }
                    offset += read;
                    if (last) {
                        log.info("Job {}: its files are back as they were after step {} ({} files)", jobId, step,
                                result.getRestore().getFiles());
                    }
                } while (offset < size);
            }
            shared.put(jobId, commit);
            sessions.restored(jobId);
            return Optional.empty();
        } finally {
            Files.deleteIfExists(bundle);
        }
    }

    /**
     * What a job's checkpoints may take on the control plane's disk: twice its disk, room for a whole
     * workspace once and as much again in changes. A sandbox must not fill the host's disk one step at a time.
     */
    static long budget(Job job) {
        return 2 * job.sandbox().diskMb() * (1L << 20) + BUNDLE_SLACK;
    }

    /** The job has left this replica's sandbox: what its daemon held is forgotten. */
    void forget(String jobId) {
        shared.remove(jobId);
    }

    private static Optional<String> failed(String jobId, int step, String why) {
        log.warn("Job {}: the workspace after step {} could not be kept as a checkpoint: {}", jobId, step, why);
        return Optional.of(why);
    }
}
