package io.nomadshell.controlplane.agent;

/** How a run of the agent loop ended. */
public sealed interface Outcome {

    /** The model called {@code finish}. */
    record Finished(String summary) implements Outcome {}

    /** The job cannot go on; the reason is shown to the user. */
    record Failed(String reason) implements Outcome {}
}
