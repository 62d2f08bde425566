package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.agent.AgentLimits;
import io.nomadshell.controlplane.model.ModelOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent loop against a real Ollama server (SmolLM2 135M imported from its GGUF file, CPU),
 * through its OpenAI-compatible routes: a model whose template cannot carry tools ends the job at
 * the first answer, in words that say so; a model that can is sent requests that fit in the window
 * the control plane read from Ollama's {@code /api/show} (the Modelfile's {@code num_ctx}).
 */
class RealOllamaTest {
    private static final String TASK = "Write hello.py that prints Hello World, run it, then call finish.";
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
    private static final int NUM_CTX = 2048;
    /** ChatML that lists the tools, in Ollama's template language (SmolLM2's own template has none). */
    private static final String TOOLS_TEMPLATE = """
            TEMPLATE \"""{{- if .Tools }}<|im_start|>system
            You can call these tools: {{ range .Tools }}{{ . }} {{ end }}<|im_end|>
            {{ end }}
            {{- range .Messages }}<|im_start|>{{ .Role }}
            {{ .Content }}{{ range .ToolCalls }}<tool_call>{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}</tool_call>{{ end }}<|im_end|>
            {{ end }}<|im_start|>assistant
            \"""
            """;

    @Test
    void aModelWithoutToolsEndsTheJobAtTheFirstRequestInWords(@TempDir Path dir) throws Exception {
        try (var ollama = OllamaServer.start(dir, "PARAMETER num_ctx " + NUM_CTX + "\n");
                var proxy = new RecordingProxy(ollama.url());
                var cluster = TestCluster.start(dir.resolve("cp"), proxy.baseUrl(),
                        options -> options.model(model(proxy.baseUrl())))) {
            var rest = cluster.rest();
            var id = rest.schedule(TASK);

            var end = rest.awaitEnd(id, JOB_TIMEOUT).last();

            assertThat(end.path("status").asText()).isEqualTo("error");
            assertThat(end.path("error").asText()).as("the job's error")
                    .contains("does not support tools").contains("choose another model");
            var calls = proxy.calls();
            assertThat(calls).as("model calls before the job ended").hasSize(1);
            assertThat(calls.getFirst().status).as("Ollama's answer to a request with tools").isEqualTo(400);
            assertThat(calls.getFirst().request.path("tools").size()).isPositive();
        }
    }

    @Test
    void requestsFitTheWindowOllamaReportsAndTheirUsageIsCounted(@TempDir Path dir) throws Exception {
        try (var ollama = OllamaServer.start(dir, "PARAMETER num_ctx " + NUM_CTX + "\n" + TOOLS_TEMPLATE);
                var proxy = new RecordingProxy(ollama.url());
                var cluster = TestCluster.start(dir.resolve("cp"), proxy.baseUrl(),
                        options -> options.model(model(proxy.baseUrl()))
                                .limits(new AgentLimits(3, Duration.ofMinutes(2), Duration.ofSeconds(30))))) {
            var rest = cluster.rest();
            var id = rest.schedule(TASK);

            var end = rest.awaitEnd(id, JOB_TIMEOUT).last();

            var calls = proxy.calls();
            assertThat(calls).as("model calls (job ended %s: %s)", end.path("status"), end.path("error")).isNotEmpty();
            long prompt = 0;
            long completion = 0;
            for (var call : calls) {
                assertThat(call.status).as("Ollama's answer to %s\n%s", call.request, ollama.log()).isEqualTo(200);
                assertThat(call.streamed()).isTrue();
                assertThat(call.usage).as("usage of a call").isNotNull();
                // The window came from /api/show: the prompt and the answer's cap fit in num_ctx.
                assertThat(call.maxTokens()).isPositive();
                assertThat(call.usage.path("prompt_tokens").asLong() + call.maxTokens())
                        .as("prompt tokens + max_tokens").isLessThanOrEqualTo(NUM_CTX);
                prompt += call.usage.path("prompt_tokens").asLong();
                completion += call.usage.path("completion_tokens").asLong();
            }
            assertThat(end.path("prompt_tokens").asLong()).as("prompt tokens counted").isEqualTo(prompt);
            assertThat(end.path("completion_tokens").asLong()).as("completion tokens counted").isEqualTo(completion);
        }
    }

    private static ModelOptions model(String baseUrl) {
        return new ModelOptions(baseUrl, "unused", OllamaServer.MODEL, 1, ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS,
                Duration.ofSeconds(60));
    }
}
