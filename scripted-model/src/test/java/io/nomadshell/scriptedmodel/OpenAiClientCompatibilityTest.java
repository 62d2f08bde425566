package io.nomadshell.scriptedmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.models.Model;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The real openai-java client, over real HTTP, against the scripted model. */
class OpenAiClientCompatibilityTest {

    private static final String TASK = "Create a Python script that prints Hello World";

    private final List<OpenAIClient> clients = new ArrayList<>();

    @Test
    void playsHelloWorldThroughAnAgentLoop() throws IOException {
        try (ScriptedModelServer server = serve(Scenario.bundled("hello-world"), null)) {
            OpenAIClient client = client(server, "k", 0);
            ChatCompletionCreateParams params = jobTools(ChatCompletionCreateParams.builder())
                    .model("gpt-4o-mini")
                    .addSystemMessage("You are a coding agent. Use the tools.")
                    .addUserMessage(TASK)
                    .build();
            Map<String, String> workspace = new HashMap<>();
            List<String> calledTools = new ArrayList<>();
            List<Long> promptTokens = new ArrayList<>();
            @Nullable String summary = null;

            for (int step = 0; step < 10 && summary == null; step++) {
                ChatCompletion completion = client.chat().completions().create(params);

                assertThat(completion.model()).isEqualTo("gpt-4o-mini");
                assertThat(completion.choices()).hasSize(1);
                ChatCompletion.Choice choice = completion.choices().get(0);
                assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
                assertThat(completion.usage()).hasValueSatisfying(usage -> {
                    assertThat(usage.promptTokens()).isPositive();
                    assertThat(usage.completionTokens()).isPositive();
                    assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
                    promptTokens.add(usage.promptTokens());
                });
                ChatCompletionMessage message = choice.message();
                List<ChatCompletionMessageToolCall> calls = message.toolCalls().orElseThrow();
                assertThat(calls).hasSize(1);

                // Echo the assistant message with its tool calls, then answer each call, as an agent loop does.
                ChatCompletionCreateParams.Builder next = params.toBuilder().addMessage(message);
                for (ChatCompletionMessageToolCall toolCall : calls) {
                    ChatCompletionMessageFunctionToolCall call = toolCall.asFunction();
                    assertThat(call.id()).isEqualTo("call_" + step + "_0");
                    calledTools.add(call.function().name());
                    JsonNode arguments = RawHttp.JSON.readTree(call.function().arguments());
                    String result = switch (call.function().name()) {
                        case "write_file" -> {
                            workspace.put(arguments.path("path").asText(), arguments.path("content").asText());
                            yield "Wrote " + arguments.path("content").asText().length() + " bytes to "
                                    + arguments.path("path").asText();
                        }
                        case "exec" -> run(arguments.path("command").asText(), workspace);
                        case "finish" -> {
                            summary = arguments.path("summary").asText();
                            yield "finished";
                        }
                        default -> throw new AssertionError("unexpected tool " + call.function().name());
                    };
                    next.addMessage(ChatCompletionToolMessageParam.builder()
                            .toolCallId(call.id()).content(result).build());
                }
                params = next.build();
            }

            assertThat(calledTools).containsExactly("write_file", "exec", "write_file", "finish");
            assertThat(workspace).containsEntry("hello.py", "print('Hello World')\n").containsKey("README.md");
            assertThat(summary).contains("hello.py");
            assertThat(promptTokens).hasSize(4).isSorted().doesNotHaveDuplicates();
            assertThat(server.receivedRequests()).hasSize(4);
        }
    }

    @Test
    void clientRetriesThroughInjectedFailuresAndGetsTheSameTurn() throws IOException {
        Scenario flaky = new Scenario("flaky", List.of(new Turn(null,
                List.of(new ToolCall("finish", "{\"summary\":\"ok\"}")), null, Duration.ZERO,
                new InjectedFailure(500, "overloaded", 2))));
        try (ScriptedModelServer server = serve(flaky, null)) {
            // One retry is not enough for two failures...
            assertThatThrownBy(() -> client(server, "k", 1).chat().completions().create(firstTurn("job one")))
                    .isInstanceOfSatisfying(InternalServerException.class,
                            e -> assertThat(e.getMessage()).contains("overloaded"));

            // ...two are, in a conversation of its own.
            ChatCompletion completion = client(server, "k", 2).chat().completions().create(firstTurn("job two"));

            assertThat(completion.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction()
                    .function().name()).isEqualTo("finish");
            assertThat(server.receivedRequests()).hasSize(5);
        }
    }

    @Test
    void unmetExpectationReachesTheClientAsBadRequest() throws IOException {
        try (ScriptedModelServer server = serve(Scenario.bundled("hello-world"), null)) {
            OpenAIClient client = client(server, "k", 0);
            ChatCompletionCreateParams first = firstTurn(TASK);
            ChatCompletionCreateParams params = answerAll(first, client.chat().completions().create(first), "Wrote");
            params = answerAll(params, client.chat().completions().create(params), "python3: command not found");
            ChatCompletionCreateParams third = params;

            assertThatThrownBy(() -> client.chat().completions().create(third))
                    .isInstanceOfSatisfying(BadRequestException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(400);
                        assertThat(e.type()).contains("invalid_request_error");
                        assertThat(e.getMessage()).contains(
                                "scenario expectation failed at turn 2: expected the tool results to contain"
                                        + " 'Hello World'");
                    });
        }
    }

    @Test
    void wrongApiKeyIsUnauthorizedAndTheRightOneWorks() throws IOException {
        try (ScriptedModelServer server = serve(Scenario.bundled("hello-world"), "sk-right")) {
            assertThatThrownBy(() -> client(server, "sk-wrong", 0).models().list())
                    .isInstanceOf(UnauthorizedException.class);

            List<Model> models = client(server, "sk-right", 0).models().list().data();

            assertThat(models).extracting(Model::id).containsExactly("scripted-model");
        }
    }

    private static ChatCompletionCreateParams firstTurn(String task) {
        return jobTools(ChatCompletionCreateParams.builder()).model("m").addUserMessage(task).build();
    }

    private static ChatCompletionCreateParams answerAll(
            ChatCompletionCreateParams params, ChatCompletion completion, String result) {
        ChatCompletionMessage message = completion.choices().get(0).message();
        ChatCompletionCreateParams.Builder next = params.toBuilder().addMessage(message);
        for (ChatCompletionMessageToolCall call : message.toolCalls().orElseThrow()) {
            next.addMessage(ChatCompletionToolMessageParam.builder()
                    .toolCallId(call.asFunction().id()).content(result).build());
        }
        return next.build();
    }

    /** A stand-in for the sandbox: runs the one command the scenario runs, against the written files. */
    private static String run(String command, Map<String, String> workspace) {
        String script = workspace.get("hello.py");
        if (command.equals("python3 hello.py") && script != null && script.equals("print('Hello World')\n")) {
            return "exit code 0\nstdout:\nHello World\n";
        }
        return "exit code 1\nstderr:\ncannot run " + command + "\n";
    }

    /** Offers the tools a job offers. */
    private static ChatCompletionCreateParams.Builder jobTools(ChatCompletionCreateParams.Builder params) {
        return params
                .addFunctionTool(function("exec", "Run a shell command.", Map.of(
                        "command", "string", "cwd", "string", "timeout_ms", "integer"), List.of("command")))
                .addFunctionTool(function("read_file", "Read a file.", Map.of("path", "string"), List.of("path")))
                .addFunctionTool(function("write_file", "Write a file.",
                        Map.of("path", "string", "content", "string"), List.of("path", "content")))
                .addFunctionTool(function("list_files", "List files.", Map.of("path", "string"), List.of()))
                .addFunctionTool(function("finish", "Finish the job.", Map.of("summary", "string"), List.of("summary")));
    }

    private static FunctionDefinition function(
            String name, String description, Map<String, String> properties, List<String> required) {
        Map<String, Object> schemaProperties = new HashMap<>();
        properties.forEach((property, type) -> schemaProperties.put(property, Map.of("type", type)));
        return FunctionDefinition.builder()
                .name(name)
                .description(description)
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(schemaProperties))
                        .putAdditionalProperty("required", JsonValue.from(required))
                        .build())
                .build();
    }

    private OpenAIClient client(ScriptedModelServer server, String apiKey, int maxRetries) {
        OpenAIClient client = OpenAIOkHttpClient.builder()
                .baseUrl(server.baseUrl())
                .apiKey(apiKey)
                .maxRetries(maxRetries)
                .timeout(Duration.ofSeconds(20))
                .build();
        clients.add(client);
        return client;
    }

    @AfterEach
    void closeClients() {
        clients.forEach(OpenAIClient::close);
    }

    private static ScriptedModelServer serve(Scenario scenario, @Nullable String apiKey) throws IOException {
        ScriptedModelServerBuilder builder = ScriptedModelServer.builder().scenario(scenario);
        if (apiKey != null) {
            builder.apiKey(apiKey);
        }
        return builder.build().start();
    }
}
