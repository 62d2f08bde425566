package io.nomadshell.proto.seed;

import static java.util.Objects.requireNonNull;

/**
 * An archive that cannot seed a workspace; the message names the entry and says why, for a person.
 * {@link #tooLarge()} when a cap was passed (HTTP 413), otherwise the archive is malformed or unsafe (400).
 */
public final class SeedRefusedException extends Exception {
    private final boolean tooLarge;

    SeedRefusedException(String message, boolean tooLarge) {
        super(requireNonNull(message, "message"), null, false, false);
        this.tooLarge = tooLarge;
    }

    public boolean tooLarge() {
        return tooLarge;
    }
}
