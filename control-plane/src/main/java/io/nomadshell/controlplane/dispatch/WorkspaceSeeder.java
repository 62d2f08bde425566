package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.proto.v1.SeedAction;
import io.nomadshell.proto.v1.ToolCall;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seeds a job's workspace before its first step: sends the job's seed archive to its sandbox, one
 * {@link SeedAction} per chunk, and the daemon unpacks it. Once the daemon has said so, the seed is
 * deleted: a job resumed later (another replica, a new sandbox on the same workspace) never seeds
 * again on top of the agent's work, while one resumed before that seeds again from the start (the
 * first chunk starts over, and unpacking replaces what an earlier try wrote).
 */
final class WorkspaceSeeder {
    private static final Logger log = LoggerFactory.getLogger(WorkspaceSeeder.class);
    private static final int CHUNK_BYTES = 1024 * 1024;
    /** A chunk is a write; unpacking the last is bounded by the caps. */
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(5);

    private final ArtifactStore artifacts;
    private final SeedLimits limits;

    WorkspaceSeeder(ArtifactStore artifacts, SeedLimits limits) {
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.limits = requireNonNull(limits, "limits");
    }

    /** Whether the job still has a seed to unpack. */
    boolean due(String jobId) {
        return artifacts.seed(jobId).isPresent();
    }

    /**
     * Seeds the job's workspace through {@code sandbox}; empty when it is seeded, or why it could not
     * be, in words for a person.
     */
    Optional<String> seed(Job job, ToolRunner sandbox)
            throws SandboxLostException, TimeoutException, InterruptedException, IOException {
        var archive = artifacts.seed(job.id());
        if (archive.isEmpty()) {
            return Optional.empty();
        }
        var caps = limits.atMost(job.sandbox().diskMb() * 1024L * 1024L);
        long size = Files.size(archive.get());
        long offset = 0;
        int call = 0;
        try (var in = Files.newInputStream(archive.get())) {
            var buffer = new byte[CHUNK_BYTES];
            do {
                int read = in.readNBytes(buffer, 0, buffer.length);
                var last = offset + read >= size;
                var result = sandbox.run(ToolCall.newBuilder().setCallId("seed-" + call++)
                        .setSeed(SeedAction.newBuilder().setOffset(offset).setData(ByteString.copyFrom(buffer, 0, read))
                                .setLast(last).setMaxBytes(caps.maxBytes()).setMaxEntries(caps.maxEntries()))
                        .build(), CALL_TIMEOUT, event -> { });
                if (!result.getError().isEmpty()) {
                    return Optional.of(result.getError());
                }
                offset += read;
                if (last) {
                    log.info("Job {} seeded with {} files ({} bytes)", job.id(), result.getSeed().getFiles(),
                            result.getSeed().getBytes());
                }
            } while (offset < size);
        }
        Files.deleteIfExists(archive.get());
        return Optional.empty();
    }
}
