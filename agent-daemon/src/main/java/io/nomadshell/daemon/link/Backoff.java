package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Pauses between redials: doubling from an initial pause up to a maximum, with ±20 % jitter. */
final class Backoff {

    private final Duration initial;
    private final Duration max;
    private Duration next;

    Backoff(Duration initial, Duration max) {
        this.initial = requireNonNull(initial, "initial");
        this.max = requireNonNull(max, "max");
        this.next = initial;
    }

    Duration next() {
        Duration pause = next;
        next = next.multipliedBy(2).compareTo(max) > 0 ? max : next.multipliedBy(2);
        // Jitter, so that many sandboxes of a restarted control plane do not redial in lockstep.
        double factor = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
        return Duration.ofNanos((long) (pause.toNanos() * factor));
    }

    void reset() {
        next = initial;
    }
}
