package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

/** A connection the egress policy refused (or that could not be made); the message says why, in plain words. */
public final class EgressRefusedException extends Exception {
    EgressRefusedException(String message) {
        super(requireNonNull(message, "message"), null, false, false);
    }
}
