package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

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
    private final @Nullable Instant retryAt;

    public JobException(Reason reason, String message) {
        this(reason, message, null);
    }

    /** A refusal that a request made again at {@code retryAt} may not meet (a key's day of tokens ends). */
    public JobException(Reason reason, String message, @Nullable Instant retryAt) {
        super(requireNonNull(message, "message"), null, false, false);
        this.reason = requireNonNull(reason, "reason");
        this.retryAt = retryAt;
    }

    public Reason reason() {
        return reason;
    }

    /** When the request may be made again with success, if that is known. */
    public @Nullable Instant retryAt() {
        return retryAt;
    }
}
