package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nomadshell.controlplane.model.ModelOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a watcher sees of a streamed answer through the whole path (llama-server → control plane →
 * Redis → gateway SSE), against the same request made to llama-server directly, in one run: the
 * time to the first words and the tokens per second after them.
 *
 * <p>Run: {@code ./mvnw -pl e2e -am verify -Dtest=ModelStreamBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class ModelStreamBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int RUNS = 5;
    /** The first run fills the server's prompt cache with the system prompt and tools every job shares. */
    private static final int WARM_UP = 1;

    @Test
    void firstWordsAndTokensPerSecondThroughTheGatewayAgainstDirect(@TempDir Path dir) throws Exception {
        try (var llama = LlamaServer.start(dir, 4096, "--chat-template-file", LlamaServer.toolsTemplate(dir).toString());
                var proxy = new RecordingProxy(llama.url());
                var cluster = TestCluster.start(dir.resolve("cp"), proxy.baseUrl(), options -> options.model(
                        new ModelOptions(proxy.baseUrl(), "unused", "smollm2", 0, 256, Duration.ofSeconds(60))))) {
            var gateway = new ArrayList<Sample>();
            var direct = new ArrayList<Sample>();
            var atServer = new ArrayList<Sample>();
            for (int run = 0; run < WARM_UP + RUNS; run++) {
                var marker = "Run " + run;
                var id = cluster.rest().schedule("Explain in a few sentences what a hello world program is. " + marker);
                var watched = watchFirstAnswer(cluster.baseUrl() + "/v1/jobs/" + id + "/events");
                var call = proxy.calls().stream().filter(c -> c.request.toString().contains(marker)).findFirst().orElseThrow();
                assertThat(call.usage).as("usage of the job's first call").isNotNull();
                long tokens = call.usage.path("completion_tokens").asLong();
                atServer.add(new Sample(ms(call.firstContentNanos - call.startedNanos),
                        rate(tokens, call.firstContentNanos, call.lastContentNanos)));
                gateway.add(new Sample(ms(watched.first - call.startedNanos),
                        rate(tokens, watched.first, watched.last)));
                // The job's later calls must not share the server with the direct request.
                cluster.rest().post("/v1/jobs/" + id + ":cancel", "application/json", "{}");
                cluster.rest().awaitEnd(id, Duration.ofMinutes(2));
                awaitIdle(llama);
                // The same request with a task as new to the server as the job's was (the shared
                // system prompt and tools are in its prompt cache for both).
                var replayed = call.request.toString().replace(marker, "Try " + run);
                direct.add(replay(llama.url(), (ObjectNode) JSON.readTree(replayed)));
            }
            var g = median(gateway.subList(WARM_UP, gateway.size()));
            var d = median(direct.subList(WARM_UP, direct.size()));
            var p = median(atServer.subList(WARM_UP, atServer.size()));
            System.out.printf("model stream, median of %d after a warm-up (SmolLM2 135M on llama-server, 2 threads):%n"
                    + "  first words: watcher through the gateway %.0f ms; the job's call at the server's door %.0f ms (%.3fx);"
                    + " the same request sent directly %.0f ms (%.2fx)%n"
                    + "  tokens/s after them: watcher %.1f; at the server's door %.1f (%.2fx); directly %.1f (%.2fx)%n",
                    RUNS, g.firstMs, p.firstMs, g.firstMs / p.firstMs, d.firstMs, g.firstMs / d.firstMs,
                    g.tokensPerSecond, p.tokensPerSecond, g.tokensPerSecond / p.tokensPerSecond,
                    d.tokensPerSecond, g.tokensPerSecond / d.tokensPerSecond);
        }
    }

    private record Sample(double firstMs, double tokensPerSecond) {}

    private record Watched(long first, long last) {}

    /** Reads the job's SSE until its first whole answer; when the first and the last delta arrived. */
    private static Watched watchFirstAnswer(String url) throws Exception {
        var response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).build(),
                HttpResponse.BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        long first = 0;
        long last = 0;
        try (var lines = response.body()) {
            for (var it = lines.iterator(); it.hasNext(); ) {
                var line = it.next();
                if (!line.startsWith("event:")) {
                    continue;
                }
                var event = line.substring(6).strip();
                if (event.equals("assistant_delta")) {
                    last = System.nanoTime();
                    first = first == 0 ? last : first;
                } else if (event.equals("assistant_message") || event.equals("end")) {
                    break;
                }
            }
        }
        assertThat(first).as("an assistant_delta event").isPositive();
        return new Watched(first, last);
    }

    /** The request straight to llama-server. */
    private static Sample replay(String llama, ObjectNode request) throws Exception {
        long started = System.nanoTime();
        var response = HTTP.send(HttpRequest.newBuilder(URI.create(llama + "/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.toString())).build(), HttpResponse.BodyHandlers.ofLines());
        long first = 0;
        long last = 0;
        long tokens = 0;
        try (var lines = response.body()) {
            for (var it = lines.iterator(); it.hasNext(); ) {
                var line = it.next();
                if (!line.startsWith("data: {")) {
                    continue;
                }
                var chunk = JSON.readTree(line.substring(6));
                if (chunk.hasNonNull("usage") && chunk.path("usage").has("completion_tokens")) {
                    tokens = chunk.path("usage").path("completion_tokens").asLong();
                }
                for (var choice : chunk.path("choices")) {
                    if (choice.path("delta").path("content").asText("").length() > 0) {
                        last = System.nanoTime();
                        first = first == 0 ? last : first;
                    }
                }
            }
        }
        assertThat(first).as("content from llama-server").isPositive();
        return new Sample(ms(first - started), rate(tokens, first, last));
    }

    /** Waits until llama-server works on no request (a cancelled stream ends there only at its next token). */
    private static void awaitIdle(LlamaServer llama) throws Exception {
        var deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (true) {
            var metrics = HTTP.send(HttpRequest.newBuilder(URI.create(llama.url() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (metrics.lines().anyMatch(line -> line.startsWith("llamacpp:requests_processing ")
                    && Double.parseDouble(line.substring(line.indexOf(' ') + 1).strip()) == 0)) {
                return;
            }
            assertThat(System.nanoTime()).as("llama-server idle").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static double rate(long tokens, long first, long last) {
        return last > first ? (tokens - 1) / ((last - first) / 1e9) : 0;
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static Sample median(List<Sample> samples) {
        var firsts = samples.stream().mapToDouble(Sample::firstMs).sorted().toArray();
        var rates = samples.stream().mapToDouble(Sample::tokensPerSecond).sorted().toArray();
        return new Sample(firsts[firsts.length / 2], rates[rates.length / 2]);
    }
}
