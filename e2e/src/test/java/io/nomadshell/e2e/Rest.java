package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** A small REST client for the gateway, optionally with an API key. */
final class Rest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Set<String> ENDED = Set.of("complete", "error", "cancelled");
    // HTTP/1.1, as curl and browsers speak to a plain-http origin: over h2c the server's reset of an
    // upload it answered early (a 400 before the body was read) can reach the Java client before the answer.
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final String base;
    private final @Nullable String apiKey;

    Rest(String base, @Nullable String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    HttpResponse<String> post(String path, String contentType, String body) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) {
        return send(request(path).GET(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String path) {
        return send(request(path).GET(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** POST /schedule with a JSON task and any further headers (name, value, ...); returns the job id. */
    String schedule(String task, String... headers) {
        var request = request("/schedule").header("Content-Type", "application/json");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        var response = send(request.POST(HttpRequest.BodyPublishers.ofString(
                JSON.createObjectNode().put("task", task).toString())), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("POST /schedule: %s", response.body()).isEqualTo(200);
        var id = json(response).path("job_id").asText("");
        assertThat(id).as("job_id in %s", response.body()).isNotBlank();
        return id;
    }

    JsonNode status(String jobId) {
        var response = get("/status/" + jobId);
        assertThat(response.statusCode()).as("GET /status/%s: %s", jobId, response.body()).isEqualTo(200);
        return json(response);
    }

    /** Polls GET /status until the job ends; returns every distinct status seen, in order, and the last body. */
    Polled awaitEnd(String jobId, Duration timeout) {
        return awaitStatus(jobId, ENDED, timeout);
    }

    Polled awaitStatus(String jobId, Set<String> wanted, Duration timeout) {
        var seen = new ArrayList<String>();
        var deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = status(jobId);
            var status = last.path("status").asText();
            if (seen.isEmpty() || !seen.getLast().equals(status)) {
                seen.add(status);
            }
            if (wanted.contains(status)) {
                return new Polled(seen, last);
            }
            if (ENDED.contains(status)) {
                fail("job %s ended as %s while waiting for %s: %s", jobId, status, wanted, last);
            }
            sleep(50);
        }
        return fail("job %s did not reach %s within %s; statuses seen %s, last %s", jobId, wanted, timeout, seen, last);
    }

    record Polled(List<String> statuses, JsonNode last) {}

    static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            return fail("not JSON (HTTP %d): %s", response.statusCode(), response.body());
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest.Builder request(String path) {
        var builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (apiKey != null) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        return builder;
    }

    private static <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler) {
        try {
            return HTTP.send(request.build(), handler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
