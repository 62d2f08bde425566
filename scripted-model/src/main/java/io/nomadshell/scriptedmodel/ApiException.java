package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * A request the server refuses, answered with an HTTP status and OpenAI's error body:
 * {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String type;
    private final @Nullable String code;

    ApiException(int status, String type, @Nullable String code, String message) {
        // Refusals are expected answers, not bugs: no stack trace to fill.
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.code = code;
    }

    /** A 400 {@code invalid_request_error}: what the real API says to a request it will not take. */
    static ApiException invalidRequest(String message) {
        return new ApiException(400, "invalid_request_error", null, message);
    }

    /** An error a scenario injects, typed as OpenAI types an error of that status. */
    static ApiException injected(InjectedFailure failure) {
        int status = failure.status();
        if (status == 429) {
            return new ApiException(status, "requests", "rate_limit_exceeded", failure.message());
        }
        return new ApiException(status, status >= 500 ? "server_error" : "invalid_request_error", null, failure.message());
    }

    int status() {
        return status;
    }

    /** The response body. */
    ObjectNode body() {
        ObjectNode error = JsonNodeFactory.instance.objectNode()
                .put("message", getMessage())
                .put("type", type)
                .putNull("param")
                .put("code", code);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.set("error", error);
        return body;
    }
}
