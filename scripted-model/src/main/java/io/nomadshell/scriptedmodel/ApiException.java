package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * A request the server refuses, answered with an HTTP status and an error body: OpenAI's
 * {@code {"error": {"message", "type", "param", "code"}}} unless made by one of the factories
 * that speak as another server.
 */
final class ApiException extends RuntimeException {

    private static final long serialVersionUID = 1L;
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final int status;
    private final ObjectNode error;

    ApiException(int status, String type, @Nullable String code, String message) {
        this(status, message, JSON.objectNode()
                .put("message", message)
                .put("type", type)
                .putNull("param")
                .put("code", code));
    }

    private ApiException(int status, String message, ObjectNode error) {
        // Refusals are expected answers, not bugs: no stack trace to fill.
        super(message, null, false, false);
        this.status = status;
        this.error = error;
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

    /**
     * A 500 as llama-server words a failure to handle the request:
     * {@code {"error": {"code": 500, "message": ..., "type": "server_error"}}}.
     */
    static ApiException llamaServerError(String message) {
        return new ApiException(500, message, llamaError(500, message, "server_error"));
    }

    /** llama-server's 400 for a prompt that does not fit its context window (server-context.cpp). */
    static ApiException contextExceeded(int promptTokens, int contextWindow) {
        String message = "request (" + promptTokens + " tokens) exceeds the available context size ("
                + contextWindow + " tokens), try increasing it";
        ObjectNode error = llamaError(400, message, "exceed_context_size_error")
                .put("n_prompt_tokens", promptTokens)
                .put("n_ctx", contextWindow);
        return new ApiException(400, message, error);
    }

    private static ObjectNode llamaError(int code, String message, String type) {
        return JSON.objectNode().put("code", code).put("message", message).put("type", type);
    }

    int status() {
        return status;
    }

    /** The response body. */
    ObjectNode body() {
        ObjectNode body = JSON.objectNode();
        body.set("error", error.deepCopy());
        return body;
    }
}
