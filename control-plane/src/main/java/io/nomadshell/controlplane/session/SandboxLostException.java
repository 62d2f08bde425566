package io.nomadshell.controlplane.session;

/** The Attach stream to a sandbox broke or went silent; the message says how. */
public final class SandboxLostException extends Exception {
    public SandboxLostException(String message) {
        super(message, null, false, false);
    }
}
