package io.nomadshell.gateway.http;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import io.nomadshell.controlplane.job.JobException;

/** A refused job request as the JSON error with the HTTP status that matches its reason. */
public final class JobErrors {
    private JobErrors() {}

    public static HttpResponse of(JobException e) {
        RetryAfter.announce(e);
        return switch (e.reason()) {
            case NOT_FOUND -> JsonErrors.of(HttpStatus.NOT_FOUND, Status.Code.NOT_FOUND, e.getMessage());
            case FAILED_PRECONDITION -> JsonErrors.of(HttpStatus.CONFLICT, Status.Code.FAILED_PRECONDITION, e.getMessage());
            case INVALID_ARGUMENT -> JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT, e.getMessage());
            case OVER_QUOTA -> JsonErrors.of(HttpStatus.TOO_MANY_REQUESTS, Status.Code.RESOURCE_EXHAUSTED, e.getMessage());
            case TOO_LARGE -> JsonErrors.of(HttpStatus.REQUEST_ENTITY_TOO_LARGE, Status.Code.RESOURCE_EXHAUSTED, e.getMessage());
            case UNAVAILABLE -> JsonErrors.of(HttpStatus.SERVICE_UNAVAILABLE, Status.Code.UNAVAILABLE, e.getMessage());
            case TIMED_OUT -> JsonErrors.of(HttpStatus.GATEWAY_TIMEOUT, Status.Code.DEADLINE_EXCEEDED, e.getMessage());
        };
    }
}
