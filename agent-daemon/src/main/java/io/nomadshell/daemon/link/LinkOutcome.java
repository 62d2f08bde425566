package io.nomadshell.daemon.link;

import java.time.Duration;

/** How the link ended for good. */
public sealed interface LinkOutcome {

    /** The control plane sent {@code Shutdown}. */
    record ShutdownRequested(String reason) implements LinkOutcome {}

    /** The control plane refused the token (UNAUTHENTICATED or PERMISSION_DENIED). */
    record Rejected(String reason) implements LinkOutcome {}

    /**
     * No stream was welcomed for {@code after}: the last Welcome's reattach window, else
     * {@link LinkOptions#giveUpAfter()}.
     */
    record GaveUp(String lastError, Duration after) implements LinkOutcome {}
}
