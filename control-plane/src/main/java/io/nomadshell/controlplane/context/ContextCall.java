package io.nomadshell.controlplane.context;

import org.jspecify.annotations.Nullable;

/** A call of a tool the context manager answers itself, in the control plane. */
public sealed interface ContextCall {
    /** Search everything the job has seen (within one output if {@code handle} is set). */
    record Search(String query, @Nullable String handle) implements ContextCall {}

    /** Read a stored output from a character offset on. */
    record Read(String handle, int offset) implements ContextCall {}

    /** Replace the pinned notes, or add to them. */
    record Notes(String text, boolean append) implements ContextCall {}
}
