package io.nomadshell.controlplane.launch;

/** A sandbox could not be started; the message is shown to the user as the job's error. */
public final class LaunchException extends Exception {
    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
