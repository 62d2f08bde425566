package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

/**
 * A request about a job that cannot be served; the message is for the person who sent it.
 * The gateway maps each {@link Reason} to the matching gRPC status and HTTP status.
 */
public final class JobException extends RuntimeException {

    /** Why the request failed, in the vocabulary of gRPC status codes. */
    public enum Reason {
        INVALID_ARGUMENT,
        NOT_FOUND,
        FAILED_PRECONDITION,
        UNAVAILABLE,
        /** Past a limit of the caller's API key (jobs running, tokens today): RESOURCE_EXHAUSTED, HTTP 429. */
        OVER_QUOTA,
        /** More than a cap allows (an upload's size): RESOURCE_EXHAUSTED, HTTP 413. */
        TOO_LARGE,
        /** Work done for the request ran past its time (fetching a git seed): DEADLINE_EXCEEDED, HTTP 504. */
        TIMED_OUT
    }

    private final Reason reason;

    public JobException(Reason reason, String message) {
        super(requireNonNull(message, "message"), null, false, false);
        this.reason = requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
