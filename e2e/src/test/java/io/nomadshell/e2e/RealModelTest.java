package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.model.ModelOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent loop against a real llama.cpp {@code llama-server} (SmolLM2 135M, CPU): a model this
 * small does not finish tasks, so these tests check the protocol and the failure paths — what the
 * control plane sends, what it counts, and that each failure ends the job quickly in words that
 * name the cause.
 */
class RealModelTest {
    private static final String TASK = "Write hello.py that prints Hello World, run it, then call finish.";
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(5);

    @Test
    void aServerThatDropsToolsEndsTheJobWithinTwoCallsEachCappedStreamedAndCounted(@TempDir Path dir) throws Exception {
        try (var llama = LlamaServer.start(dir, 2048);
                var proxy = new RecordingProxy(llama.url());
                var cluster = TestCluster.start(dir.resolve("cp"), proxy.baseUrl(),
                        options -> options.model(model(proxy.baseUrl(), Duration.ofSeconds(60))))) {
            var rest = cluster.rest();
            var id = rest.schedule(TASK);

            var end = rest.awaitEnd(id, JOB_TIMEOUT).last();

            assertThat(end.path("status").asText()).isEqualTo("error");
            assertThat(end.path("error").asText()).as("the job's error").contains("tools").contains("--jinja");
            var calls = proxy.calls();
            assertThat(calls).as("model calls before the job ended").hasSizeBetween(1, 2);
            long prompt = 0;
            long completion = 0;
            for (var call : calls) {
                assertThat(call.status).as("the server's answer to %s", call.request).isEqualTo(200);
                assertThat(call.streamed()).isTrue();
                assertThat(call.request.path("stream_options").path("include_usage").asBoolean()).isTrue();
                assertThat(call.usage).as("usage of a call").isNotNull();
                // The window came from the server: the prompt and the answer's cap fit in its 2,048 tokens.
                assertThat(call.maxTokens()).isPositive();
                assertThat(call.usage.path("prompt_tokens").asLong() + call.maxTokens()).isLessThanOrEqualTo(2048);
                prompt += call.usage.path("prompt_tokens").asLong();
                completion += call.usage.path("completion_tokens").asLong();
            }
            assertThat(end.path("prompt_tokens").asLong()).as("prompt tokens counted").isEqualTo(prompt);
            assertThat(end.path("completion_tokens").asLong()).as("completion tokens counted").isEqualTo(completion);
        }
    }

    @Test
    void aStalledStreamEndsTheJobAtTheIdleTimeout(@TempDir Path dir) throws Exception {
        try (var llama = LlamaServer.start(dir, 2048, "--chat-template-file", LlamaServer.toolsTemplate(dir).toString());
                var cluster = TestCluster.start(dir.resolve("cp"), llama.url() + "/v1",
                        options -> options.model(model(llama.url() + "/v1", Duration.ofSeconds(3))))) {
            var rest = cluster.rest();
            var id = rest.schedule(TASK);
            rest.awaitStatus(id, Set.of("running"), JOB_TIMEOUT);
            llama.pause();
            try {
                var end = rest.awaitEnd(id, JOB_TIMEOUT).last();

                assertThat(end.path("status").asText()).isEqualTo("error");
                assertThat(end.path("error").asText()).contains("sent no token for 3 s: idle timeout");
            } finally {
                llama.resume();
            }
        }
    }

    @Test
    void stoppingTheServerMidJobEndsTheJobWithConnectionRefused(@TempDir Path dir) throws Exception {
        var llama = LlamaServer.start(dir, 2048, "--chat-template-file", LlamaServer.toolsTemplate(dir).toString());
        try (llama; var cluster = TestCluster.start(dir.resolve("cp"), llama.url() + "/v1",
                options -> options.model(model(llama.url() + "/v1", Duration.ofSeconds(60))))) {
            var rest = cluster.rest();
            var id = rest.schedule(TASK);
            rest.awaitStatus(id, Set.of("running"), JOB_TIMEOUT);
            llama.close();

            var end = rest.awaitEnd(id, JOB_TIMEOUT).last();

            assertThat(end.path("status").asText()).isEqualTo("error");
            assertThat(end.path("error").asText()).contains("connection refused").contains(llama.url());
        }
    }

    private static ModelOptions model(String baseUrl, Duration idleTimeout) {
        return new ModelOptions(baseUrl, "unused", "smollm2", 1, ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS, idleTimeout);
    }
}
