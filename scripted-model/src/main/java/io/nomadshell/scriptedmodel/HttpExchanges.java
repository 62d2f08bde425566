package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Reading bounded request bodies from, and writing JSON to, a JDK {@link HttpExchange}. */
final class HttpExchanges {

    /** How much of an oversized body is read and dropped, so the client sees the 413 and not a reset. */
    private static final long MAX_DRAIN_BYTES = 64L * 1024 * 1024;

    private HttpExchanges() {
    }

    /**
     * The request body, at most {@code limit} bytes.
     *
     * @throws ApiException with status 413 if the body is longer
     */
    static byte[] readBody(HttpExchange exchange, int limit) throws IOException {
        InputStream in = exchange.getRequestBody();
        byte[] body = in.readNBytes(limit + 1);
        if (body.length <= limit) {
            return body;
        }
        drain(in);
        throw new ApiException(413, "invalid_request_error", null,
                "Request body too large: the limit is " + limit + " bytes.");
    }

    static void sendJson(HttpExchange exchange, ObjectMapper mapper, int status, JsonNode body) throws IOException {
        byte[] bytes = mapper.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long drained = 0;
        int n;
        while (drained < MAX_DRAIN_BYTES && (n = in.read(buffer)) > 0) {
            drained += n;
        }
    }
}
