package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A job as stored: what was asked, by whom, where it stands and what it has used.
 *
 * @param owner who scheduled it (an API key's id); other owners cannot see it
 * @param error why it failed, in words for a person; set only in {@link JobStatus#ERROR}
 * @param artifactBytes the size of its zip, 0 while it has none
 * @param artifactPartial whether its zip is what a job that did not complete left in its workspace
 * @param artifactNote why a job that ended keeps no zip, in words for a person ("left no files ..."); null when
 *     it keeps one or nothing was said
 * @param artifactDueBy until when a partial zip of a job cancelled while it ran may still come (its runner zips
 *     the workspace after the job has ended); null once it came, or when none will
 * @param costUsd what its model calls cost so far, in US dollars, by the configured price table
 * @param sandbox what its sandbox may use
 * @param session where it stands as a conversation: checkpoints, pause, fork
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
        boolean artifactPartial,
        @Nullable String artifactNote,
        @Nullable Instant artifactDueBy,
        double costUsd,
        SandboxResources sandbox,
        JobSession session) {

    public Job {
        requireNonNull(id, "id");
        requireNonNull(owner, "owner");
        requireNonNull(task, "task");
        requireNonNull(status, "status");
        requireNonNull(createdAt, "createdAt");
        requireNonNull(sandbox, "sandbox");
        requireNonNull(session, "session");
    }

    public long totalTokens() {
        return promptTokens + completionTokens;
    }

    /** Whether its runner is still zipping what the job left, so a partial zip may come yet. */
    public boolean artifactComing(Instant now) {
        return artifactDueBy != null && now.isBefore(artifactDueBy);
    }
}
