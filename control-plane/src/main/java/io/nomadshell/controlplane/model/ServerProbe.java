package io.nomadshell.controlplane.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks an OpenAI-compatible server what it knows of its model, each server where it says it:
 * llama.cpp's {@code GET /props}, vLLM's {@code GET /v1/models} ({@code max_model_len}), Ollama's
 * {@code POST /api/show}. Every question is short and may fail: the facts are then unknown.
 */
final class ServerProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerProbe.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** All the questions together: a server that never answers holds the start no longer than this. */
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Pattern NUM_CTX = Pattern.compile("(?m)^\\s*num_ctx\\s+(\\d+)");
    /** Ollama runs a model with this window unless its Modelfile or server says otherwise. */
    private static final int OLLAMA_DEFAULT_NUM_CTX = 4_096;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final long deadline = System.nanoTime() + TIMEOUT.toNanos();
    private final String base;
    private final String root;
    private final String apiKey;
    private final String model;

    private ServerProbe(String base, String apiKey, String model) {
        this.base = base.replaceAll("/+$", "");
        this.root = this.base.replaceAll("/v1$", "");
        this.apiKey = apiKey;
        this.model = model;
    }

    /** The facts the endpoint gives; none for OpenAI itself, whose windows are in {@link KnownWindows}. */
    static ServerFacts probe(ModelOptions options) {
        if (options.isOpenAi() || URI.create(options.baseUrl()).getHost() == null) {
            return ServerFacts.NONE;
        }
        try (var self = new ServerProbe(options.baseUrl(), options.apiKey(), options.model())) {
            var facts = self.llamaCpp();
            if (facts == null) {
                facts = self.vllm();
            }
            if (facts == null) {
                facts = self.ollama();
            }
            return facts != null ? facts : ServerFacts.NONE;
        }
    }

    private @Nullable ServerFacts llamaCpp() {
        var props = get(root + "/props");
        if (props == null || !props.has("default_generation_settings")) {
            return null;
        }
        var nCtx = props.path("default_generation_settings").path("n_ctx").asInt(props.path("n_ctx").asInt(0));
        var caps = props.path("chat_template_caps");
        Optional<Boolean> tools = caps.has("supports_tools") ? Optional.of(caps.path("supports_tools").asBoolean())
                : Optional.empty();
        var modalities = props.path("modalities");
        Optional<Boolean> images = modalities.has("vision") ? Optional.of(modalities.path("vision").asBoolean())
                : Optional.empty();
        return new ServerFacts(nCtx > 0 ? OptionalInt.of(nCtx) : OptionalInt.empty(), tools, images, "llama.cpp /props");
    }

    private @Nullable ServerFacts vllm() {
        var models = get(base + "/models");
        if (models == null) {
            return null;
        }
        for (var entry : models.path("data")) {
            if (entry.path("id").asText().equals(model) && entry.path("max_model_len").asInt(0) > 0) {
                return new ServerFacts(OptionalInt.of(entry.path("max_model_len").asInt()), Optional.empty(),
                        Optional.empty(), "vLLM /v1/models max_model_len");
            }
        }
        return null;
    }

    private @Nullable ServerFacts ollama() {
        var show = post(root + "/api/show", Map.of("model", model));
        if (show == null || !show.has("model_info")) {
            return null;
        }
        int trained = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = show.path("model_info").fields(); it.hasNext(); ) {
            var field = it.next();
            if (field.getKey().endsWith(".context_length")) {
                trained = field.getValue().asInt(0);
            }
        }
        var numCtx = NUM_CTX.matcher(show.path("parameters").asText(""));
        int window = numCtx.find() ? Integer.parseInt(numCtx.group(1)) : OLLAMA_DEFAULT_NUM_CTX;
        if (trained > 0) {
            window = Math.min(window, trained);
        }
        return new ServerFacts(OptionalInt.of(window), Optional.empty(), Optional.empty(), "Ollama /api/show");
    }

    private @Nullable JsonNode get(String url) {
        return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    private @Nullable JsonNode post(String url, Object body) {
        try {
            return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private @Nullable JsonNode send(HttpRequest.Builder request) {
        try {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            var response = http.send(request.timeout(Duration.ofNanos(left)).header("Authorization", "Bearer " + apiKey).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return null;
            }
            return JSON.readTree(response.body());
        } catch (IOException | IllegalArgumentException e) {
            log.debug("The model endpoint did not answer {}: {}", request.build().uri(), e.toString());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public void close() {
        // Not close(): that waits for exchanges a slow server may hold open.
        http.shutdownNow();
    }
}
