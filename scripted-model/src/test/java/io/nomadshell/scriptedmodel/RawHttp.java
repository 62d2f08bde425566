package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Plain HTTP to a {@link ScriptedModelServer}, for requests no OpenAI client would send. */
final class RawHttp {

    static final ObjectMapper JSON = new ObjectMapper();

    /** A response: its status and its body as JSON. */
    record Response(int status, JsonNode body) {

        /** The {@code error.message} of an OpenAI error body. */
        String errorMessage() {
            return body.path("error").path("message").asText();
        }
    }

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String origin;
    private final @Nullable String authorization;

    /** Talks to {@code server}, sending {@code Authorization: Bearer <apiKey>}, or nothing when apiKey is null. */
    RawHttp(ScriptedModelServer server, @Nullable String apiKey) {
        this.origin = "http://127.0.0.1:" + server.port();
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
    }

    RawHttp(ScriptedModelServer server) {
        this(server, null);
    }

    Response post(String path, JsonNode body) {
        return post(path, body.toString());
    }

    Response post(String path, String body) {
        return send(request(path).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    Response post(String path, byte[] body) {
        return send(request(path).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    Response get(String path) {
        return send(request(path).GET());
    }

    /** A response read as text: a stream of Server-Sent Events, say. */
    record TextResponse(int status, String contentType, String body) {

        /** The {@code data:} payloads of the events, in order. */
        List<String> events() {
            List<String> data = new ArrayList<>();
            for (String event : body.split("\n\n")) {
                if (!event.isBlank()) {
                    if (!event.startsWith("data: ")) {
                        throw new AssertionError("not an SSE data event: " + event);
                    }
                    data.add(event.substring("data: ".length()));
                }
            }
            return data;
        }
    }

    /** A chat completion on the usual path, its answer read as text. */
    TextResponse chatText(JsonNode body) {
        try {
            HttpResponse<String> response = client.send(request("/v1/chat/completions")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new TextResponse(response.statusCode(),
                    response.headers().firstValue("Content-Type").orElse(""), response.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A chat completion on the usual path. */
    Response chat(JsonNode body) {
        return post("/v1/chat/completions", body);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(origin + path))
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json");
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        return builder;
    }

    private Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), JSON.readTree(response.body()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
