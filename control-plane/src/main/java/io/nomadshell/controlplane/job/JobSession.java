package io.nomadshell.controlplane.job;

import org.jspecify.annotations.Nullable;

/**
 * Where a job stands as a conversation that goes on across runs.
 *
 * @param checkpointStep the newest step whose workspace is kept as a checkpoint; -1 while none is
 * @param pauseRequested whether a pause (or a rollback) waits for the end of the running step
 * @param forkedFrom the job it was forked from, or null
 * @param forkedFromStep the step of {@code forkedFrom} it was forked at
 * @param restoreStep the checkpoint its next sandbox starts from (after a pause, an end, a rollback
 *     or a fork); null when its workspace is where it was (a new job, or one resumed on its workspace)
 */
public record JobSession(int checkpointStep, boolean pauseRequested, @Nullable String forkedFrom, int forkedFromStep,
        @Nullable Integer restoreStep) {
    /** A job that has never been anything but one run. */
    public static final JobSession NONE = new JobSession(-1, false, null, 0, null);
}
