package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

/** A connection the egress policy refused (or that could not be made); the message says why, in plain words. */
public final class EgressRefusedException extends Exception {
    private final String address;

    EgressRefusedException(String message, String address) {
        super(requireNonNull(message, "message"), null, false, false);
        this.address = requireNonNull(address, "address");
    }

    /** The address that was refused or could not be reached; empty when the name did not resolve. */
    public String address() {
        return address;
    }
}
