package io.nomadshell.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.grpc.Status;
import java.util.Map;

/** Error responses in the same JSON shape as Armeria's transcoded gRPC errors. */
public final class JsonErrors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonErrors() {}

    public static HttpResponse of(HttpStatus httpStatus, Status.Code code, String message) {
        return aggregated(httpStatus, code, message).toHttpResponse();
    }

    /** The same, whole: for callers that must not wait on a stream (an error handler on an event loop). */
    static AggregatedHttpResponse aggregated(HttpStatus httpStatus, Status.Code code, String message) {
        try {
            var body = JSON.writeValueAsString(Map.of(
                    "code", code.value(), "grpc-code", code.name(), "message", message));
            return AggregatedHttpResponse.of(httpStatus, MediaType.JSON_UTF_8, body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
