package io.nomadshell.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;

/**
 * Passes HTTP to a real model server on loopback byte for byte, streams included, and keeps what
 * the chat completions carried: each request's JSON, the status, the {@code usage} the server
 * answered, and when the first words came back. The tests see what the control plane really sent.
 */
final class RecordingProxy implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One chat completion as it passed. */
    static final class Call {
        final JsonNode request;
        final long startedNanos = System.nanoTime();
        volatile int status;
        volatile @Nullable JsonNode usage;
        volatile long firstContentNanos;
        volatile long lastContentNanos;
        volatile long endedNanos;

        Call(JsonNode request) {
            this.request = request;
        }

        boolean streamed() {
            return request.path("stream").asBoolean(false);
        }

        long maxTokens() {
            return request.path("max_tokens").asLong(request.path("max_completion_tokens").asLong(0));
        }
    }

    private final HttpServer server;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String target;
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    RecordingProxy(String target) throws IOException {
        this.target = target;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::forward);
        server.start();
    }

    /** The OpenAI base URL to give the control plane. */
    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    List<Call> calls() {
        return List.copyOf(calls);
    }

    private void forward(HttpExchange exchange) throws IOException {
        try (exchange) {
            var body = exchange.getRequestBody().readAllBytes();
            var path = exchange.getRequestURI().toString();
            Call call = null;
            if (path.endsWith("/chat/completions")) {
                call = new Call(JSON.readTree(body));
                calls.add(call);
            }
            var request = HttpRequest.newBuilder(URI.create(target + path))
                    .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            var type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (type != null) {
                request.header("Content-Type", type);
            }
            HttpResponse<InputStream> response;
            try {
                response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                // The server is gone: so is the connection, as the client would have seen it.
                exchange.getResponseBody().close();
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (call != null) {
                call.status = response.statusCode();
            }
            response.headers().firstValue("Content-Type").ifPresent(t -> exchange.getResponseHeaders().set("Content-Type", t));
            exchange.sendResponseHeaders(response.statusCode(), 0);
            copy(response.body(), exchange, call);
        }
    }

    /** Copies the answer as it comes, reading its SSE lines (or its JSON) for usage and the first words. */
    private static void copy(InputStream in, HttpExchange exchange, @Nullable Call call) throws IOException {
        var out = exchange.getResponseBody();
        var line = new ByteArrayOutputStream();
        var whole = new ByteArrayOutputStream();
        try (in) {
            int b;
            while ((b = in.read()) >= 0) {
                out.write(b);
                if (call == null) {
                    continue;
                }
                whole.write(b);
                if (b == '\n') {
                    out.flush();
                    note(call, line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        } finally {
            out.flush();
            if (call != null) {
                if (!call.streamed()) {
                    note(call, "data: " + whole.toString(StandardCharsets.UTF_8));
                }
                call.endedNanos = System.nanoTime();
            }
        }
    }

    private static void note(Call call, String line) {
        if (!line.startsWith("data: ") || line.startsWith("data: [DONE]")) {
            return;
        }
        try {
            var chunk = JSON.readTree(line.substring(6));
            if (chunk.hasNonNull("usage") && chunk.path("usage").has("prompt_tokens")) {
                call.usage = chunk.get("usage");
            }
            for (var choice : chunk.path("choices")) {
                var delta = choice.has("delta") ? choice.path("delta") : choice.path("message");
                if (delta.path("content").asText("").length() > 0 || delta.has("tool_calls")) {
                    call.lastContentNanos = System.nanoTime();
                    if (call.firstContentNanos == 0) {
                        call.firstContentNanos = call.lastContentNanos;
                    }
                }
            }
        } catch (IOException e) {
            // not JSON: nothing to note
        }
    }

    @Override
    public void close() {
        server.stop(0);
        client.shutdownNow();
    }
}
