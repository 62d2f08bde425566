package io.nomadshell.controlplane.job;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import java.time.Instant;

/** Jobs as the public API shows them: what GetJob answers, and what a job's webhook POSTs. */
public final class JobMessages {
    private JobMessages() {}

    public static io.nomadshell.proto.v1.Job toProto(Job job) {
        var message = io.nomadshell.proto.v1.Job.newBuilder()
                .setJobId(job.id())
                .setStatus(job.status().wireName())
                .setTask(job.task())
                .setCreatedAt(timestamp(job.createdAt()))
                .setSteps(job.steps())
                .setPromptTokens(job.promptTokens())
                .setCompletionTokens(job.completionTokens())
                .setTotalTokens(job.totalTokens())
                .setCostUsd(job.costUsd())
                .setArtifactBytes(job.artifactBytes())
                .setArtifactPartial(job.artifactPartial())
                .setCpuMhz(job.sandbox().cpuMhz())
                .setMemoryMb(job.sandbox().memoryMb())
                .setTimeoutSeconds((int) job.sandbox().timeout().toSeconds())
                .setNetwork("none")
                .addAllEgressAllow(job.sandbox().egressAllow())
                .setDiskMb(job.sandbox().diskMb())
                .setCheckpointStep(job.session().checkpointStep())
                .setPauseRequested(job.session().pauseRequested())
                .setForkedFromStep(job.session().forkedFromStep());
        if (job.session().forkedFrom() != null) {
            message.setForkedFrom(job.session().forkedFrom());
        }
        if (job.startedAt() != null) {
            message.setStartedAt(timestamp(job.startedAt()));
        }
        if (job.finishedAt() != null) {
            message.setFinishedAt(timestamp(job.finishedAt()));
        }
        if (job.error() != null) {
            message.setError(job.error());
        }
        if (job.status() == JobStatus.COMPLETE || job.artifactPartial()) {
            message.setDownloadUrl("/download/" + job.id());
        }
        return message.build();
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamps.fromMillis(instant.toEpochMilli());
    }
}
