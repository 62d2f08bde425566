package io.nomadshell.controlplane.agent;

import org.jspecify.annotations.Nullable;

/** How a run of the agent loop ended. */
public sealed interface Outcome {

    /** The model called {@code finish}. */
    record Finished(String summary) implements Outcome {}

    /** The job cannot go on; the reason is shown to the user. */
    record Failed(String reason) implements Outcome {}

    /**
     * Its user asked to pause it; it stopped after {@code step}, and is to be rolled back to
     * {@code rollbackTo} once paused, when not null.
     */
    record Paused(int step, @Nullable Integer rollbackTo) implements Outcome {}
}
