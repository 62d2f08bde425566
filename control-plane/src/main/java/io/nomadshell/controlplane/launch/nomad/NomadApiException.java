package io.nomadshell.controlplane.launch.nomad;

import java.io.IOException;

/** The Nomad HTTP API answered with an error, or could not be reached. */
public final class NomadApiException extends IOException {
    private final int status;

    NomadApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    NomadApiException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
    }

    /** The HTTP status Nomad answered with; 0 when it was not reached. */
    public int status() {
        return status;
    }
}
