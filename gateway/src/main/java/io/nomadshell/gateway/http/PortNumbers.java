package io.nomadshell.gateway.http;

import org.jspecify.annotations.Nullable;

/** A sandbox port as a request names it. */
final class PortNumbers {
    static final String RULE = "the port must be a number from 1 to 65535";

    private PortNumbers() {}

    /** The port in {@code given}, or 0 when it is none. */
    static int parse(@Nullable String given) {
        if (given == null || given.isEmpty() || given.length() > 5 || !given.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return 0;
        }
        int port = Integer.parseInt(given);
        return port <= 65535 ? port : 0;
    }
}
