package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Each {@code mock-llm} flag reaches the scripted model: a client sees it over HTTP. */
class MockLlmCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LONG_PROMPT = "the quick brown fox jumps over the lazy dog ".repeat(60);
    private static final String TOOLS = """
            [{"type":"function","function":{"name":"exec","parameters":{"type":"object","properties":{}}}}]""";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<ScriptedModelServer> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(ScriptedModelServer::close);
        http.close();
    }

    @Test
    void withoutFlagsTheModelHasToolsImagesAndTheDefaultWindow() throws Exception {
        var props = get(serve(), "/props");

        assertThat(props.path("default_generation_settings").path("n_ctx").asInt()).isEqualTo(32_768);
        assertThat(props.path("chat_template_caps").path("supports_tools").asBoolean()).isTrue();
        assertThat(props.path("modalities").path("vision").asBoolean()).isTrue();
    }

    @Test
    void theWindowToolsAndImagesFlagsShowInProps() throws Exception {
        var server = serve("--context-window", "2048", "--no-tools", "--no-images");

        var props = get(server, "/props");

        assertThat(props.path("default_generation_settings").path("n_ctx").asInt()).isEqualTo(2048);
        assertThat(props.path("chat_template_caps").path("supports_tools").asBoolean()).isFalse();
        assertThat(props.path("modalities").path("vision").asBoolean()).isFalse();
        assertThat(get(server, "/v1/models").path("data").path(0).path("max_model_len").asInt()).isEqualTo(2048);
    }

    @Test
    void toolsRejectedRefusesARequestOfferingTools() throws Exception {
        var answer = chat(serve("--tools-rejected"), "hello", TOOLS);

        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(answer.body()).contains("does not support tools");
    }

    @Test
    void theTokenScaleMultipliesTheServersCount() throws Exception {
        var plain = chat(serve("--context-window", "256"), LONG_PROMPT, null);
        var scaled = chat(serve("--context-window", "256", "--token-scale", "2"), LONG_PROMPT, null);

        assertThat(plain.statusCode()).isEqualTo(400);
        assertThat(scaled.statusCode()).isEqualTo(400);
        int counted = JSON.readTree(plain.body()).path("error").path("n_prompt_tokens").asInt();
        assertThat(counted).isGreaterThan(256);
        assertThat(JSON.readTree(scaled.body()).path("error").path("n_prompt_tokens").asInt()).isEqualTo(2 * counted);
    }

    @Test
    void aWindowTooSmallIsRefusedInWords() {
        var err = new StringWriter();
        var commandLine = NomadShell.commandLine();
        commandLine.setErr(new PrintWriter(err, true));

        int exit = commandLine.execute("mock-llm", "--port", "0", "--context-window", "10");

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).isEqualTo("error: the context window must be at least 256 tokens, not 10"
                + System.lineSeparator());
    }

    private ScriptedModelServer serve(String... flags) throws Exception {
        var command = new MockLlmCommand();
        new CommandLine(command).parseArgs(flags);
        command.port = 0;
        var server = command.start(Scenario.bundled(DemoCommand.SCENARIO));
        servers.add(server);
        return server;
    }

    private JsonNode get(ScriptedModelServer server, String path) throws Exception {
        var root = server.baseUrl().replaceAll("/v1/?$", "");
        var response = http.send(HttpRequest.newBuilder(URI.create(root + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private HttpResponse<String> chat(ScriptedModelServer server, String prompt, @Nullable String tools) throws Exception {
        var body = JSON.createObjectNode().put("model", "scripted-model");
        body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        if (tools != null) {
            body.set("tools", JSON.readTree(tools));
        }
        var url = server.baseUrl().replaceAll("/+$", "") + "/chat/completions";
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
