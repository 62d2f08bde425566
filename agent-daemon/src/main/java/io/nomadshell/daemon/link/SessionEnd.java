package io.nomadshell.daemon.link;

/** How one Attach stream ended. */
sealed interface SessionEnd {

    record Shutdown(String reason) implements SessionEnd {}

    record Rejected(String reason) implements SessionEnd {}

    /** The stream broke; {@code welcomed} says whether it had been welcomed first. */
    record Broken(String reason, boolean welcomed) implements SessionEnd {}
}
