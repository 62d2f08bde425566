package io.nomadshell.scriptedmodel;

import static io.nomadshell.scriptedmodel.Chat.assistant;
import static io.nomadshell.scriptedmodel.Chat.assistantCalling;
import static io.nomadshell.scriptedmodel.Chat.request;
import static io.nomadshell.scriptedmodel.Chat.system;
import static io.nomadshell.scriptedmodel.Chat.tool;
import static io.nomadshell.scriptedmodel.Chat.user;
import static io.nomadshell.scriptedmodel.Chat.userWithImage;
import static io.nomadshell.scriptedmodel.RequestValidationTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How a scenario is played: turn selection, the reply's shape, usage, and each turn option. */
class ScenarioPlaybackTest {

    private static final Encoding O200K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

    private ScriptedModelServer server;
    private RawHttp http;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void replyIsAStandardChatCompletion() throws IOException {
        play(new Turn("Reading two files.", List.of(new ToolCall("read_file", "{\"path\":\"a\"}"),
                new ToolCall("list_files", "{}")), null, Duration.ZERO, null));
        long before = Instant.now().getEpochSecond();

        RawHttp.Response response = http.chat(request(List.of(user("go")), "read_file", "list_files"));

        assertThat(response.status()).isEqualTo(200);
        JsonNode body = response.body();
        assertThat(body.path("id").asText()).startsWith("chatcmpl-");
        assertThat(body.path("object").asText()).isEqualTo("chat.completion");
        assertThat(body.path("created").asLong()).isBetween(before, Instant.now().getEpochSecond());
        assertThat(body.path("model").asText()).isEqualTo("m");
        JsonNode choice = body.path("choices").get(0);
        assertThat(choice.path("index").asInt()).isZero();
        assertThat(choice.path("finish_reason").asText()).isEqualTo("tool_calls");
        JsonNode message = choice.path("message");
        assertThat(message.path("role").asText()).isEqualTo("assistant");
        assertThat(message.path("content").asText()).isEqualTo("Reading two files.");
        assertThat(message.path("tool_calls")).hasSize(2);
        JsonNode second = message.path("tool_calls").get(1);
        assertThat(second.path("id").asText()).isEqualTo("call_0_1");
        assertThat(second.path("type").asText()).isEqualTo("function");
        assertThat(second.path("function").path("name").asText()).isEqualTo("list_files");
        assertThat(second.path("function").path("arguments").asText()).isEqualTo("{}");
    }

    @Test
    void plainAnswerStopsWithoutToolCalls() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{}")),
                new Turn("All done.", List.of(), null, Duration.ZERO, null));

        JsonNode body = http.chat(request(List.of(user("go"), assistantCalling("read_file", "x"),
                tool("x", "ok")), "read_file")).body();

        JsonNode choice = body.path("choices").get(0);
        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.path("message").path("content").asText()).isEqualTo("All done.");
        assertThat(choice.path("message").has("tool_calls")).isFalse();
    }

    @Test
    void turnIsTheNumberOfAssistantMessagesSoRetriesRepeatIt() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{\"path\":\"first\"}")),
                Turn.calling(new ToolCall("read_file", "{\"path\":\"second\"}")));
        ObjectNode atTurnOne = request(List.of(user("go"), assistantCalling("read_file", "x"), tool("x", "ok")),
                "read_file");

        for (int attempt = 0; attempt < 2; attempt++) {
            JsonNode call = http.chat(atTurnOne).body().path("choices").get(0).path("message").path("tool_calls").get(0);
            assertThat(call.path("id").asText()).isEqualTo("call_1_0");
            assertThat(call.path("function").path("arguments").asText()).isEqualTo("{\"path\":\"second\"}");
        }
        assertThat(firstArguments(http.chat(request(List.of(user("go")), "read_file"))))
                .isEqualTo("{\"path\":\"first\"}");
    }

    @Test
    void usageCountsPromptAndReplyInO200kTokens() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{}")),
                new Turn("The file says hello.", List.of(new ToolCall("finish", "{\"summary\":\"read it\"}")),
                        null, Duration.ZERO, null));
        ObjectNode body = request(List.of(system("You are terse."), user("Read the file, please."),
                assistantCalling("read_file", "x"), tool("x", "hello there")), "read_file", "finish");

        JsonNode usage = http.chat(body).body().path("usage");

        int prompt = tokens("You are terse.") + tokens("Read the file, please.") + tokens("{\"path\":\"x\"}")
                + tokens("hello there") + tokens(body.get("tools").toString());
        int completion = tokens("The file says hello.") + tokens("{\"summary\":\"read it\"}");
        assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(prompt);
        assertThat(usage.path("completion_tokens").asInt()).isEqualTo(completion);
        assertThat(usage.path("total_tokens").asInt()).isEqualTo(prompt + completion);
    }

    @Test
    void noTurnLeftIsRefused() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{}")));

        assertRefused(http.chat(request(List.of(user("go"), assistantCalling("read_file", "x"), tool("x", "ok")),
                "read_file")), 400, "the scenario 'test' has only 1 turns");
    }

    @Test
    void toolTheRequestDoesNotOfferIsRefusedByName() throws IOException {
        play(Turn.calling(new ToolCall("exec", "{\"command\":\"ls\"}")));

        assertRefused(http.chat(request(List.of(user("go")), "read_file", "finish")), 400,
                "calls the tool 'exec' at turn 0, but the request does not offer it (offered: read_file, finish)");
        assertRefused(http.chat(request(List.of(user("go")))), 400, "(offered: no tools)");
    }

    @Test
    void expectationIsCheckedAgainstTheToolResultsOfThePreviousTurn() throws IOException {
        play(Turn.calling(new ToolCall("exec", "{}")),
                new Turn(null, List.of(new ToolCall("finish", "{}")), "Hello World", Duration.ZERO, null));

        RawHttp.Response unmet = http.chat(request(List.of(user("go"), assistantCalling("exec", "x"),
                tool("x", "Hello Moon")), "exec", "finish"));
        RawHttp.Response met = http.chat(request(List.of(user("go"), assistantCalling("exec", "x"),
                tool("x", "exit 0: Hello World")), "exec", "finish"));

        assertRefused(unmet, 400, "scenario expectation failed at turn 1: expected the tool results to contain"
                + " 'Hello World'; they were: 'Hello Moon'");
        assertThat(met.status()).isEqualTo(200);
    }

    @Test
    void expectationIgnoresToolResultsOfEarlierTurns() throws IOException {
        play(Turn.calling(new ToolCall("exec", "{}")), Turn.calling(new ToolCall("exec", "{}")),
                new Turn(null, List.of(new ToolCall("finish", "{}")), "Hello World", Duration.ZERO, null));

        RawHttp.Response response = http.chat(request(List.of(user("go"),
                assistantCalling("exec", "x"), tool("x", "Hello World"),
                assistantCalling("exec", "y"), tool("y", "nothing")), "exec", "finish"));

        assertRefused(response, 400, "expected the tool results to contain 'Hello World'");
    }

    @Test
    void expectImagesCountsTheImagesSinceThePreviousTurn() throws IOException {
        play(Turn.calling(new ToolCall("computer", "{}")),
                new Turn(null, List.of(new ToolCall("finish", "{}")), null, Duration.ZERO, null, 1));
        String png = "data:image/png;base64,iVBORw0KGgo=";

        RawHttp.Response without = http.chat(request(List.of(user("go"), assistantCalling("computer", "x"),
                tool("x", "screenshot")), "computer", "finish"));
        RawHttp.Response with = http.chat(request(List.of(user("go"), assistantCalling("computer", "x"),
                tool("x", "screenshot"), userWithImage("it:", png)), "computer", "finish"));

        assertRefused(without, 400, "scenario expectation failed at turn 1: expected 1 image(s) after the previous"
                + " assistant message; the request carries 0");
        assertThat(with.status()).isEqualTo(200);
    }

    @Test
    void failGivesTheErrorTimesPerConversationThenSucceeds() throws IOException {
        play(new Turn("ok", List.of(), null, Duration.ZERO, new InjectedFailure(503, "overloaded", 2)));
        ObjectNode jobA = request(List.of(system("same system"), user("job A")));
        ObjectNode jobB = request(List.of(system("same system"), user("job B")));

        RawHttp.Response a1 = http.chat(jobA);
        RawHttp.Response b1 = http.chat(jobB);
        RawHttp.Response a2 = http.chat(jobA);
        RawHttp.Response a3 = http.chat(jobA);
        RawHttp.Response b2 = http.chat(jobB);
        RawHttp.Response b3 = http.chat(jobB);

        for (RawHttp.Response failed : List.of(a1, a2, b1, b2)) {
            assertThat(failed.status()).isEqualTo(503);
            assertThat(failed.errorMessage()).isEqualTo("overloaded");
            assertThat(failed.body().path("error").path("type").asText()).isEqualTo("server_error");
        }
        assertThat(a3.status()).isEqualTo(200);
        assertThat(b3.status()).isEqualTo(200);
    }

    @Test
    void delayMakesTheTurnAnswerSlowly() throws IOException {
        play(new Turn("slow", List.of(), null, Duration.ofMillis(400), null));

        long start = System.nanoTime();
        RawHttp.Response response = http.chat(request(List.of(user("go"))));
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(response.status()).isEqualTo(200);
        assertThat(elapsed).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    }

    @Test
    void rawArgumentsAreSentExactlyAsWritten() throws IOException {
        play(Turn.calling(new ToolCall("finish", "{\"summary\": \"unterminated")));

        assertThat(firstArguments(http.chat(request(List.of(user("go")), "finish"))))
                .isEqualTo("{\"summary\": \"unterminated");
    }

    @Test
    void concurrentConversationsShareOneServer() throws Exception {
        play(Turn.calling(new ToolCall("read_file", "{\"path\":\"a\"}")),
                Turn.calling(new ToolCall("finish", "{\"summary\":\"done\"}")));
        List<Future<String>> results = new ArrayList<>();

        try (ExecutorService jobs = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int job = 0; job < 16; job++) {
                String task = "job " + job;
                results.add(jobs.submit(() -> {
                    http.chat(request(List.of(user(task)), "read_file", "finish"));
                    return firstName(http.chat(request(List.of(user(task), assistantCalling("read_file", "x"),
                            tool("x", "content")), "read_file", "finish")));
                }));
            }
        }

        for (Future<String> result : results) {
            assertThat(result.get()).isEqualTo("finish");
        }
        assertThat(server.receivedRequests()).hasSize(32);
    }

    @Test
    void receivedRequestsKeepsParsedBodiesRefusedOnesIncluded() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{}")));
        ObjectNode refused = request(List.of(user("go")));
        ObjectNode accepted = request(List.of(user("go")), "read_file");

        http.chat(refused);
        http.post("/v1/chat/completions", "not json");
        http.chat(accepted);

        assertThat(server.receivedRequests()).containsExactly(refused, accepted);
    }

    @Test
    void pathWithoutV1AndModelListAreServed() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{}")));

        RawHttp.Response chat = http.post("/chat/completions", request(List.of(user("go")), "read_file"));
        RawHttp.Response models = http.get("/v1/models");

        assertThat(chat.status()).isEqualTo(200);
        assertThat(models.status()).isEqualTo(200);
        assertThat(models.body().path("object").asText()).isEqualTo("list");
        assertThat(models.body().path("data").get(0).path("id").asText()).isEqualTo("scripted-model");
    }

    @Test
    void baseUrlNamesTheLoopbackAddressAndBoundPort() throws IOException {
        play(Turn.calling(new ToolCall("read_file", "{}")));

        assertThat(server.port()).isPositive();
        assertThat(server.baseUrl()).isEqualTo("http://127.0.0.1:" + server.port() + "/v1");
    }

    @Test
    void conversationWithOlderMessagesLeftOutGetsTheTurnAfterItsNewestCall() throws IOException {
        play(Turn.calling(new ToolCall("exec", "{\"n\":0}")), Turn.calling(new ToolCall("exec", "{\"n\":1}")),
                Turn.calling(new ToolCall("exec", "{\"n\":2}")), Turn.calling(new ToolCall("exec", "{\"n\":3}")));

        // Turns 0 and 1 were condensed away by the client: only turn 2's call and its result remain.
        RawHttp.Response response = http.chat(request(List.of(user("go"), user("summary of turns 0 and 1"),
                assistantCalling("exec", "call_2_0"), tool("call_2_0", "ok")), "exec"));

        assertThat(response.status()).isEqualTo(200);
        assertThat(firstArguments(response)).isEqualTo("{\"n\":3}");
    }

    @Test
    void matchedTurnAnswersBySystemPromptWithoutMovingTheConversation() throws IOException {
        server = ScriptedModelServer.builder().scenario(new Scenario("test",
                List.of(Turn.calling(new ToolCall("exec", "{}"))),
                List.of(new MatchedTurn("condense the steps", "the summary")))).build().start();
        http = new RawHttp(server);

        JsonNode body = http.chat(request(List.of(system("Please condense the steps below."), user("steps")))).body();
        JsonNode turn0 = http.chat(request(List.of(system("You are a coding agent."), user("go")), "exec")).body();

        assertThat(body.path("choices").get(0).path("message").path("content").asText()).isEqualTo("the summary");
        assertThat(turn0.path("choices").get(0).path("message").path("tool_calls").get(0).path("function")
                .path("name").asText()).isEqualTo("exec");
    }

    @Test
    void everyAnsweredPromptIsCountedWithTheSameTokenizer() throws IOException {
        play(new Turn("thinking", List.of(), null, Duration.ZERO, null),
                new Turn("done", List.of(), null, Duration.ZERO, null));
        String text = "The quick brown fox jumps over the lazy dog. ".repeat(50);

        http.chat(request(List.of(user(text))));
        http.chat(request(List.of(user(text), assistantCalling("exec", "a"), tool("a", text))));

        assertThat(server.promptTokenCounts()).containsExactly(
                O200K.countTokensOrdinary(text),
                2 * O200K.countTokensOrdinary(text) + O200K.countTokensOrdinary("{\"path\":\"x\"}"));
    }

    private void play(Turn... turns) throws IOException {
        server = ScriptedModelServer.builder().scenario(new Scenario("test", List.of(turns))).build().start();
        http = new RawHttp(server);
    }

    private static String firstArguments(RawHttp.Response response) {
        return firstCall(response).path("function").path("arguments").asText();
    }

    private static String firstName(RawHttp.Response response) {
        return firstCall(response).path("function").path("name").asText();
    }

    private static JsonNode firstCall(RawHttp.Response response) {
        assertThat(response.status()).as("status of %s", response.body()).isEqualTo(200);
        return response.body().path("choices").get(0).path("message").path("tool_calls").get(0);
    }

    private static int tokens(String text) {
        return O200K.countTokensOrdinary(text);
    }
}
