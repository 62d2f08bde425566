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
    private static final int MAX_ECHOED_PATH = 200;

    @Override
    public @Nullable HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
        return null; // Armeria's defaults pick the status; renderStatus below writes the body.
    }

    @Override
    public @Nullable AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx, ServiceConfig config,
            @Nullable RequestHeaders headers, HttpStatus status, @Nullable String description,
            @Nullable Throwable cause) {
        // Built whole, never by aggregating a stream: with no request context (a request the decoder
        // refused) aggregate() completes on some event loop, and join() here on another event loop
        // let a handful of bad requests block every loop on each other for good.
        return JsonErrors.aggregated(status, grpcCode(status), message(status, headers));
    }

    private static String message(HttpStatus status, @Nullable RequestHeaders headers) {
        return switch (status.code()) {
            case 400 -> "the request is malformed: send JSON such as {\"task\": \"...\"} with Content-Type: application/json";
            case 404 -> "there is nothing at " + (headers == null ? "this path" : headers.method() + " " + shortened(headers.path()));
            case 405 -> "this path does not take " + (headers == null ? "that method" : headers.method());
            case 413 -> "the request is too large";
            case 415 -> "unsupported Content-Type: send application/json";
            case 503 -> "the server is shutting down or overloaded; try again";
            default -> status.reasonPhrase();
        };
    }

    /** A path as echoed in a message: an over-long one is cut. */
    private static String shortened(String path) {
        return path.length() <= MAX_ECHOED_PATH ? path : path.substring(0, MAX_ECHOED_PATH) + "...";
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
