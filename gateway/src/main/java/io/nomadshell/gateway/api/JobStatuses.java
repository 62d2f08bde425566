package io.nomadshell.gateway.api;

import io.grpc.Status;
import io.nomadshell.controlplane.job.JobException;

/** A refused job request as the gRPC status that matches its reason. */
final class JobStatuses {
    private JobStatuses() {}

    static Status of(JobException e) {
        var code = switch (e.reason()) {
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case TOO_LARGE -> Status.RESOURCE_EXHAUSTED;
            // Carries its cause, by which the REST face tells it (429) from a cap (413).
            case OVER_QUOTA -> Status.RESOURCE_EXHAUSTED.withCause(e);
            case TIMED_OUT -> Status.DEADLINE_EXCEEDED;
        };
        return code.withDescription(e.getMessage());
    }
}
