package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A job as stored: what was asked, by whom, where it stands and what it has used.
 *
 * @param owner who scheduled it (an API key's id); other owners cannot see it
 * @param error why it failed, in words for a person; set only in {@link JobStatus#ERROR}
 * @param costUsd what its model calls cost so far, in US dollars, by the configured price table
 * @param sandbox what its sandbox may use
 */
public record Job(
        String id,
        String owner,
        String task,
        JobStatus status,
        @Nullable String error,
        Instant createdAt,
        @Nullable Instant startedAt,
        @Nullable Instant finishedAt,
        int steps,
        long promptTokens,
        long completionTokens,
        long artifactBytes,
        double costUsd,
        SandboxResources sandbox) {

    public Job {
        requireNonNull(id, "id");
        requireNonNull(owner, "owner");
        requireNonNull(task, "task");
        requireNonNull(status, "status");
        requireNonNull(createdAt, "createdAt");
        requireNonNull(sandbox, "sandbox");
    }

    public long totalTokens() {
        return promptTokens + completionTokens;
    }
}
