package io.nomadshell.daemon.link;

/** How the link ended for good. */
public sealed interface LinkOutcome {

    /** The control plane sent {@code Shutdown}. */
    record ShutdownRequested(String reason) implements LinkOutcome {}

    /** The control plane refused the token (UNAUTHENTICATED or PERMISSION_DENIED). */
    record Rejected(String reason) implements LinkOutcome {}

    /** No stream was welcomed for {@link LinkOptions#giveUpAfter()}. */
    record GaveUp(String lastError) implements LinkOutcome {}
}
