package io.nomadshell.gateway.http;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import org.jspecify.annotations.Nullable;

/**
 * Every error the server answers outside a gRPC service (no such route, a body that is not JSON,
 * a request too large, ...) gets the same JSON body as the API's own errors, never a stack trace.
 */
public final class JsonErrorHandler implements ServerErrorHandler {

    @Override
    public @Nullable HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
        return null; // Armeria's defaults pick the status; renderStatus below writes the body.
    }

    @Override
    public @Nullable AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx, ServiceConfig config,
            @Nullable RequestHeaders headers, HttpStatus status, @Nullable String description,
            @Nullable Throwable cause) {
        return JsonErrors.of(status, grpcCode(status), message(status, headers)).aggregate().join();
    }

    private static String message(HttpStatus status, @Nullable RequestHeaders headers) {
        return switch (status.code()) {
            case 400 -> "the request is malformed: send JSON such as {\"task\": \"...\"} with Content-Type: application/json";
            case 404 -> "there is nothing at " + (headers == null ? "this path" : headers.method() + " " + headers.path());
            case 405 -> "this path does not take " + (headers == null ? "that method" : headers.method());
            case 413 -> "the request is too large";
            case 415 -> "unsupported Content-Type: send application/json";
            case 503 -> "the server is shutting down or overloaded; try again";
            default -> status.reasonPhrase();
        };
    }

    private static Status.Code grpcCode(HttpStatus status) {
        return switch (status.code()) {
            case 400, 413, 415 -> Status.Code.INVALID_ARGUMENT;
            case 401 -> Status.Code.UNAUTHENTICATED;
            case 403 -> Status.Code.PERMISSION_DENIED;
            case 404, 405 -> Status.Code.NOT_FOUND;
            case 429 -> Status.Code.RESOURCE_EXHAUSTED;
            case 503 -> Status.Code.UNAVAILABLE;
            case 504 -> Status.Code.DEADLINE_EXCEEDED;
            default -> Status.Code.UNKNOWN;
        };
    }
}
