package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The timing of the Attach link.
 *
 * @param defaultHeartbeat the heartbeat interval when the Welcome names none; also how long
 *     (times three) to wait for the Welcome itself
 * @param initialBackoff the first pause before redialing a broken stream
 * @param maxBackoff the longest pause between redials; the pause doubles up to it
 * @param giveUpAfter how long to keep redialing without a Welcome before giving up
 */
public record LinkOptions(
        Duration defaultHeartbeat, Duration initialBackoff, Duration maxBackoff, Duration giveUpAfter) {

    /** 5 s heartbeats; redial after 200 ms doubling to 5 s; give up after 60 s. */
    public static final LinkOptions DEFAULTS = new LinkOptions(
            Duration.ofSeconds(5), Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(60));

    public LinkOptions {
        requirePositive(defaultHeartbeat, "defaultHeartbeat");
        requirePositive(initialBackoff, "initialBackoff");
        requirePositive(maxBackoff, "maxBackoff");
        requirePositive(giveUpAfter, "giveUpAfter");
    }

    private static void requirePositive(Duration value, String name) {
        requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }
}
