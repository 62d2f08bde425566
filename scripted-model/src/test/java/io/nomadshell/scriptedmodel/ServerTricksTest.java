package io.nomadshell.scriptedmodel;

import static io.nomadshell.scriptedmodel.Chat.request;
import static io.nomadshell.scriptedmodel.Chat.tool;
import static io.nomadshell.scriptedmodel.Chat.user;
import static io.nomadshell.scriptedmodel.Chat.userWithImage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.InternalServerException;
import com.openai.models.FunctionDefinition;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ways real OpenAI-compatible servers differ from OpenAI, each played on demand: llama-server's
 * window, props, refusals and cut answers, a template that drops tools, Ollama's tools refusal.
 */
class ServerTricksTest {

    private static final String IMAGE = "data:image/png;base64,iVBORw0KGgo=";
    private static final String LLAMA_IMAGE_REFUSAL =
            "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj";

    private final List<OpenAIClient> clients = new ArrayList<>();
    private ScriptedModelServer server;
    private RawHttp http;

    @AfterEach
    void stop() {
        clients.forEach(OpenAIClient::close);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void propsAndModelsTellTheDefaultWindowToolsAndVision() throws IOException {
        serve(builder -> builder, Turn.saying("hi"));

        JsonNode props = http.get("/props").body();
        JsonNode model = http.get("/v1/models").body().path("data").get(0);

        assertThat(props.path("default_generation_settings").path("n_ctx").asInt()).isEqualTo(32_768);
        assertThat(props.path("chat_template_caps").path("supports_tools").asBoolean()).isTrue();
        assertThat(props.path("chat_template_caps").path("supports_tool_calls").asBoolean()).isTrue();
        assertThat(props.path("modalities").path("vision").asBoolean()).isTrue();
        assertThat(model.path("max_model_len").asInt()).isEqualTo(32_768);
    }

    @Test
    void aSetWindowIsToldWhereLlamaServerAndVllmTellIt() throws IOException {
        serve(builder -> builder.contextWindow(2048).apiKey("sk-k"), Turn.saying("hi"));

        RawHttp.Response props = new RawHttp(server, "sk-k").get("/props");
        RawHttp.Response models = new RawHttp(server, "sk-k").get("/v1/models");

        assertThat(props.status()).isEqualTo(200);
        assertThat(props.body().path("default_generation_settings").path("n_ctx").asInt()).isEqualTo(2048);
        assertThat(models.body().path("object").asText()).isEqualTo("list");
        JsonNode model = models.body().path("data").get(0);
        assertThat(model.path("object").asText()).isEqualTo("model");
        assertThat(model.path("max_model_len").asInt()).isEqualTo(2048);
        assertThat(model.path("meta").path("n_ctx").asInt()).isEqualTo(2048);
        assertThat(model.path("meta").path("n_ctx_train").asInt()).as("trained for more than served")
                .isEqualTo(131_072);
        assertThat(http.get("/props").status()).as("the key guards /props as llama-server does").isEqualTo(401);
    }

    @Test
    void promptThatFillsTheWindowIsRefusedInLlamaServersWords() throws IOException {
        serve(builder -> builder.contextWindow(256), Turn.saying("hi"));
        String longTask = "word ".repeat(300);

        RawHttp.Response response = http.chat(request(List.of(user(longTask))));

        int promptTokens = TokenCounter.count(longTask);
        assertThat(response.status()).isEqualTo(400);
        JsonNode error = response.body().path("error");
        assertThat(error.path("code").asInt()).isEqualTo(400);
        assertThat(error.path("type").asText()).isEqualTo("exceed_context_size_error");
        assertThat(error.path("message").asText()).isEqualTo("request (" + promptTokens
                + " tokens) exceeds the available context size (256 tokens), try increasing it");
        assertThat(error.path("n_prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(error.path("n_ctx").asInt()).isEqualTo(256);
        assertThat(server.requests().getFirst().status()).isEqualTo(400);
    }

    @Test
    void answerThatWouldOverflowTheWindowStopsWhereItIsFull() throws IOException {
        serve(builder -> builder.contextWindow(256), Turn.saying("many ".repeat(200)));
        String task = "word ".repeat(200);

        JsonNode body = http.chat(request(List.of(user(task)))).body();

        int promptTokens = TokenCounter.count(task);
        assertThat(body.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
        assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(256 - promptTokens);
    }

    @Test
    void outputCapCutsTheTextAndSaysLength() throws IOException {
        serve(builder -> builder, Turn.saying("one two three four five six seven eight nine ten"));

        JsonNode capped = http.chat(request(List.of(user("go"))).put("max_tokens", 4)).body();
        JsonNode smallerWins = http.chat(request(List.of(user("go"))).put("max_tokens", 10)
                .put("max_completion_tokens", 3)).body();
        JsonNode roomy = http.chat(request(List.of(user("go"))).put("max_completion_tokens", 100)).body();

        assertThat(capped.path("choices").get(0).path("message").path("content").asText()).isEqualTo("one two three four");
        assertThat(capped.path("choices").get(0).path("finish_reason").asText()).isEqualTo("length");
        assertThat(capped.path("usage").path("completion_tokens").asInt()).isEqualTo(4);
        assertThat(smallerWins.path("choices").get(0).path("message").path("content").asText()).isEqualTo("one two three");
        assertThat(roomy.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        assertThat(server.requests()).extracting(RecordedRequest::maxTokens).containsExactly(4, 10, null);
        assertThat(server.requests()).extracting(RecordedRequest::maxCompletionTokens).containsExactly(null, 3, 100);
        assertThat(server.requests()).extracting(RecordedRequest::finishReason).containsExactly("length", "length", "stop");
    }

    @Test
    void outputCapCutsAToolCallInItsArguments() throws IOException {
        String arguments = "{\"path\": \"notes.txt\", \"content\": \"a long line of text to write\"}";
        serve(builder -> builder, new Turn("Writing.", List.of(new ToolCall("write_file", arguments),
                new ToolCall("read_file", "{}")), null, Duration.ZERO, null));
        int cap = TokenCounter.count("Writing.") + 5;

        JsonNode choice = http.chat(request(List.of(user("go")), "write_file", "read_file").put("max_tokens", cap))
                .body().path("choices").get(0);

        assertThat(choice.path("finish_reason").asText()).isEqualTo("length");
        JsonNode calls = choice.path("message").path("tool_calls");
        assertThat(calls).as("the call after the cut is never written").hasSize(1);
        String cutArguments = calls.get(0).path("function").path("arguments").asText();
        assertThat(arguments).startsWith(cutArguments);
        assertThat(TokenCounter.count(cutArguments)).isEqualTo(5);
    }

    @Test
    void cutTurnAnswersLengthWithItsTruncatedCall() throws IOException {
        serve(builder -> builder, new Turn(null, List.of(new ToolCall("write_file", "{\"path\": \"a.txt\", \"content\": \"he")),
                null, Duration.ZERO, null, null, true, Duration.ZERO, null));

        JsonNode choice = http.chat(request(List.of(user("go")), "write_file")).body().path("choices").get(0);
        List<String> events = http.chatText(request(List.of(user("go")), "write_file").put("stream", true)).events();

        assertThat(choice.path("finish_reason").asText()).isEqualTo("length");
        assertThat(choice.path("message").path("tool_calls").get(0).path("function").path("arguments").asText())
                .isEqualTo("{\"path\": \"a.txt\", \"content\": \"he");
        assertThat(events.get(events.size() - 2)).contains("\"finish_reason\":\"length\"");
    }

    @Test
    void historyReplayingArgumentsThatAreNotJsonIsRefusedAsLlamaServerDoes() throws IOException {
        serve(builder -> builder,
                Turn.calling(new ToolCall("write_file", "{\"path\": \"a.txt\", \"content\": \"unterminated")),
                Turn.saying("done"));
        OpenAIClient client = client();
        ChatCompletionCreateParams first = ChatCompletionCreateParams.builder().model("m").addUserMessage("go")
                .addFunctionTool(FunctionDefinition.builder().name("write_file").build()).build();
        ChatCompletionMessage broken = client.chat().completions().create(first).choices().getFirst().message();
        String id = broken.toolCalls().orElseThrow().getFirst().asFunction().id();
        ChatCompletionCreateParams replayed = first.toBuilder().addMessage(broken)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(id).content("invalid arguments").build())
                .build();

        assertThatThrownBy(() -> client.chat().completions().create(replayed))
                .isInstanceOfSatisfying(InternalServerException.class, e -> assertThat(e.statusCode()).isEqualTo(500));
        RawHttp.Response raw = http.chat(request(List.of(user("go"), assistantCalling("write_file", id, "{\"path\": \"a"),
                tool(id, "invalid arguments")), "write_file"));
        assertThat(raw.status()).isEqualTo(500);
        JsonNode error = raw.body().path("error");
        assertThat(error.path("code").asInt()).isEqualTo(500);
        assertThat(error.path("type").asText()).isEqualTo("server_error");
        assertThat(error.path("message").asText()).startsWith("Failed to parse tool call arguments as JSON: "
                + "[json.exception.parse_error.101] parse error at line 1, column ").contains("last read: '{\"path\": \"a'");
        assertThat(fieldNames(error)).containsExactly("code", "message", "type");

        // The same history with the call's arguments made valid goes on.
        RawHttp.Response repaired = http.chat(request(List.of(user("go"), assistantCalling("write_file", id, "{}"),
                tool(id, "invalid arguments")), "write_file"));
        assertThat(repaired.status()).isEqualTo(200);
        assertThat(repaired.body().path("choices").get(0).path("message").path("content").asText()).isEqualTo("done");
    }

    @Test
    void emptyArgumentsInTheHistoryAreRefusedToo() throws IOException {
        serve(builder -> builder, Turn.calling(new ToolCall("read_file", "{}")), Turn.saying("done"));

        RawHttp.Response response = http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1", ""),
                tool("c1", "x")), "read_file"));

        assertThat(response.status()).isEqualTo(500);
        assertThat(response.errorMessage()).contains("attempting to parse an empty input");
    }

    @Test
    void toolCallsWrittenAsTextAreContentWithoutStructuredCalls(@TempDir Path tmp) throws IOException {
        Scenario scenario = Scenario.load(Files.writeString(tmp.resolve("text-calls.json"), """
                {"name": "text-calls", "turns": [
                  {"content": "<tool_call>{\\"name\\": \\"read_file\\", \\"arguments\\": {\\"path\\": \\"a\\"}}</tool_call>"},
                  {"content": "```json\\n{\\"name\\": \\"finish\\", \\"arguments\\": {\\"summary\\": \\"ok\\"}}\\n```"}
                ]}"""));
        server = ScriptedModelServer.builder().scenario(scenario).build().start();
        http = new RawHttp(server);

        JsonNode first = http.chat(request(List.of(user("go")), "read_file", "finish")).body().path("choices").get(0);
        JsonNode second = http.chat(request(List.of(user("go"), Chat.assistant(first.path("message").path("content").asText()),
                user("go on")), "read_file", "finish")).body().path("choices").get(0);

        assertThat(first.path("message").path("content").asText())
                .isEqualTo("<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}</tool_call>");
        assertThat(first.path("message").has("tool_calls")).isFalse();
        assertThat(first.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(second.path("message").path("content").asText())
                .isEqualTo("```json\n{\"name\": \"finish\", \"arguments\": {\"summary\": \"ok\"}}\n```");
    }

    @Test
    void templateWithoutToolsIgnoresThemAndAnswersInWordsOnly() throws IOException {
        serve(builder -> builder.toolsSupported(false),
                new Turn("I would call a tool.", List.of(new ToolCall("exec", "{\"command\": \"ls\"}")), null,
                        Duration.ZERO, null));

        JsonNode caps = http.get("/props").body().path("chat_template_caps");
        JsonNode withTools = http.chat(request(List.of(user("go")), "read_file", "write_file")).body();
        JsonNode withoutTools = http.chat(request(List.of(user("go")))).body();

        assertThat(caps.path("supports_tools").asBoolean()).isFalse();
        assertThat(caps.path("supports_tool_calls").asBoolean()).isFalse();
        JsonNode choice = withTools.path("choices").get(0);
        assertThat(choice.path("message").path("content").asText()).isEqualTo("I would call a tool.");
        assertThat(choice.path("message").has("tool_calls")).isFalse();
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(withTools.path("usage").path("prompt_tokens")).as("the tools never reach the prompt")
                .isEqualTo(withoutTools.path("usage").path("prompt_tokens"));
    }

    @Test
    void templateWithoutToolsAnswersACallOnlyTurnWithEmptyText() throws IOException {
        serve(builder -> builder.toolsSupported(false), Turn.calling(new ToolCall("exec", "{}")));

        JsonNode choice = http.chat(request(List.of(user("go")), "exec")).body().path("choices").get(0);

        assertThat(choice.path("message").path("content").asText()).isEmpty();
        assertThat(choice.path("message").has("tool_calls")).isFalse();
    }

    @Test
    void textOnlyModelRefusesAnyImageAsLlamaServerDoes() throws IOException {
        serve(builder -> builder.acceptsImages(false), Turn.saying("I see nothing."), Turn.saying("again"));

        RawHttp.Response refused = http.chat(request(List.of(userWithImage("look", IMAGE))));
        RawHttp.Response textOnly = http.chat(request(List.of(user("look"))));

        assertThat(http.get("/props").body().path("modalities").path("vision").asBoolean()).isFalse();
        assertThat(refused.status()).isEqualTo(500);
        assertThat(refused.body()).isEqualTo(JsonNodeFactory.instance.objectNode().set("error",
                JsonNodeFactory.instance.objectNode().put("code", 500).put("message", LLAMA_IMAGE_REFUSAL)
                        .put("type", "server_error")));
        assertThat(textOnly.status()).isEqualTo(200);
    }

    @Test
    void ollamaWithoutToolSupportRefusesRequestsOfferingTools() throws IOException {
        serve(builder -> builder.toolsRejected(true), Turn.saying("words only"));

        RawHttp.Response refused = http.chat(request(List.of(user("go")), "exec"));
        RawHttp.Response plain = http.chat(request(List.of(user("go"))));

        RequestValidationTest.assertRefused(refused, 400, "registry.ollama.ai/library/m does not support tools");
        assertThat(plain.status()).isEqualTo(200);
    }

    @Test
    void tokenScalePlaysATokenizerThatCountsMoreThanO200k() throws IOException {
        serve(builder -> builder.tokenScale(1.2).contextWindow(256), Turn.saying("one two three four five six seven eight nine ten"));
        String task = "word ".repeat(100);
        int o200k = TokenCounter.count(task);

        JsonNode whole = http.chat(request(List.of(user(task)))).body();
        JsonNode capped = http.chat(request(List.of(user(task))).put("max_tokens", 6)).body();
        RawHttp.Response tooLong = http.chat(request(List.of(user("word ".repeat(220)))));

        assertThat(whole.path("usage").path("prompt_tokens").asInt()).isEqualTo((int) Math.ceil(o200k * 1.2 - 1e-9));
        assertThat(whole.path("usage").path("completion_tokens").asInt()).as("ten o200k tokens").isEqualTo(12);
        assertThat(capped.path("choices").get(0).path("message").path("content").asText())
                .as("six of its tokens hold five of o200k's").isEqualTo("one two three four five");
        assertThat(capped.path("usage").path("completion_tokens").asInt()).isEqualTo(6);
        assertThat(tooLong.status()).as("220 o200k tokens are 264 of this server's").isEqualTo(400);
        assertThat(tooLong.body().path("error").path("n_prompt_tokens").asInt())
                .isEqualTo((int) Math.ceil(TokenCounter.count("word ".repeat(220)) * 1.2 - 1e-9));
        assertThat(server.promptTokenCounts()).containsExactly(whole.path("usage").path("prompt_tokens").asInt(),
                capped.path("usage").path("prompt_tokens").asInt());
    }

    /** An assistant message calling {@code name} once with these raw arguments. */
    private static ObjectNode assistantCalling(String name, String id, String arguments) {
        ObjectNode message = Chat.assistantCalling(name, id);
        ((ObjectNode) message.path("tool_calls").get(0).path("function")).put("arguments", arguments);
        return message;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private void serve(UnaryOperator<ScriptedModelServerBuilder> options, Turn... turns) throws IOException {
        server = options.apply(ScriptedModelServer.builder().scenario(new Scenario("tricks", List.of(turns))))
                .build().start();
        http = new RawHttp(server);
    }

    private OpenAIClient client() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("k").maxRetries(0)
                .timeout(Duration.ofSeconds(20)).build();
        clients.add(client);
        return client;
    }
}
