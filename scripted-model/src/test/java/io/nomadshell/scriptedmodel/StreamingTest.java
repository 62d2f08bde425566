package io.nomadshell.scriptedmodel;

import static io.nomadshell.scriptedmodel.Chat.request;
import static io.nomadshell.scriptedmodel.Chat.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.Timeout;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code "stream": true}: OpenAI's chunks over Server-Sent Events, paced, and stalled on demand. */
class StreamingTest {

    private static final String WORDS = "I will read a file and list the folder.";
    private static final Turn READ_AND_LIST = new Turn(WORDS, List.of(
            new ToolCall("read_file", "{\"path\":\"notes/today.txt\"}"), new ToolCall("list_files", "{}")),
            null, Duration.ZERO, null);

    private final List<OpenAIClient> clients = new ArrayList<>();
    private ScriptedModelServer server;

    @AfterEach
    void stop() {
        clients.forEach(OpenAIClient::close);
        if (server != null) {
            server.close();
        }
    }

    @Test
    void streamedAnswerIsOpenAiChunksThenUsageThenDone() throws IOException {
        serve(READ_AND_LIST);
        ObjectNode body = request(List.of(user("go")), "read_file", "list_files").put("stream", true);
        body.putObject("stream_options").put("include_usage", true);

        RawHttp.TextResponse response = new RawHttp(server).chatText(body);
        JsonNode whole = new RawHttp(server).chat(request(List.of(user("go")), "read_file", "list_files")).body();

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("text/event-stream");
        List<String> events = response.events();
        assertThat(events.getLast()).isEqualTo("[DONE]");
        List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(StreamingTest::json).toList();
        assertThat(chunks).allSatisfy(chunk -> {
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            assertThat(chunk.path("id").asText()).isEqualTo(chunks.getFirst().path("id").asText()).startsWith("chatcmpl-");
            assertThat(chunk.path("model").asText()).isEqualTo("m");
        });
        assertThat(chunks.getFirst().path("choices").get(0).path("delta").path("role").asText()).isEqualTo("assistant");

        List<JsonNode> deltas = chunks.subList(0, chunks.size() - 1).stream()
                .map(chunk -> chunk.path("choices").get(0)).toList();
        assertThat(deltas.subList(0, deltas.size() - 1))
                .allSatisfy(choice -> assertThat(choice.path("finish_reason").isNull()).isTrue());
        List<String> contentPieces = deltas.stream().map(choice -> choice.path("delta").path("content"))
                .filter(JsonNode::isTextual).map(JsonNode::asText).filter(text -> !text.isEmpty()).toList();
        assertThat(contentPieces).as("the text in several deltas, word by word").hasSize(9);
        assertThat(String.join("", contentPieces)).isEqualTo(WORDS);

        List<JsonNode> callDeltas = deltas.stream().map(choice -> choice.path("delta").path("tool_calls"))
                .filter(JsonNode::isArray).map(calls -> calls.get(0)).toList();
        JsonNode firstCall = callDeltas.getFirst();
        assertThat(firstCall.path("index").asInt()).isZero();
        assertThat(firstCall.path("id").asText()).isEqualTo("call_0_0");
        assertThat(firstCall.path("type").asText()).isEqualTo("function");
        assertThat(firstCall.path("function").path("name").asText()).isEqualTo("read_file");
        assertThat(firstCall.path("function").path("arguments").asText()).isEmpty();
        assertThat(arguments(callDeltas, 0)).isEqualTo("{\"path\":\"notes/today.txt\"}");
        assertThat(callDeltas.stream().filter(call -> call.path("index").asInt() == 0)).as("arguments in pieces")
                .hasSizeGreaterThan(3);
        assertThat(arguments(callDeltas, 1)).isEqualTo("{}");
        assertThat(callDeltas).filteredOn(call -> call.has("id")).extracting(call -> call.path("id").asText())
                .containsExactly("call_0_0", "call_0_1");

        JsonNode last = deltas.getLast();
        assertThat(last.path("finish_reason").asText()).isEqualTo("tool_calls");
        assertThat(last.path("delta").isEmpty()).isTrue();

        JsonNode usageChunk = chunks.getLast();
        assertThat(usageChunk.path("choices").isArray()).isTrue();
        assertThat(usageChunk.path("choices").isEmpty()).isTrue();
        assertThat(usageChunk.path("usage")).isEqualTo(whole.path("usage"));
        assertThat(chunks.subList(0, chunks.size() - 1))
                .allSatisfy(chunk -> assertThat(chunk.path("usage").isNull()).isTrue());
    }

    @Test
    void withoutIncludeUsageTheStreamHasNoUsage() throws IOException {
        serve(Turn.saying("Just words."));

        List<String> events = new RawHttp(server).chatText(request(List.of(user("go"))).put("stream", true)).events();

        assertThat(events.getLast()).isEqualTo("[DONE]");
        List<JsonNode> chunks = events.subList(0, events.size() - 1).stream().map(StreamingTest::json).toList();
        assertThat(chunks).noneMatch(chunk -> chunk.has("usage"));
        assertThat(chunks.getLast().path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
        RecordedRequest recorded = server.requests().getFirst();
        assertThat(recorded.stream()).isTrue();
        assertThat(recorded.includeUsage()).isFalse();
        assertThat(recorded.finishReason()).isEqualTo("stop");
        assertThat(recorded.completionTokens()).isEqualTo(3);
    }

    @Test
    void accumulatedStreamIsTheSameMessageAsTheWholeAnswer() throws IOException {
        Turn textToolCall = Turn.saying("<tool_call>{\"name\": \"read_file\", \"arguments\": {\"path\": \"a\"}}</tool_call>");
        Turn cut = new Turn(null, List.of(new ToolCall("write_file", "{\"path\": \"a.txt\", \"content\": \"par")),
                null, Duration.ZERO, null, null, true, Duration.ZERO, null);
        for (Turn turn : List.of(READ_AND_LIST, textToolCall, cut)) {
            serve(turn);
            OpenAIClient client = client(Timeout.builder().request(Duration.ofSeconds(20)).build());
            ChatCompletionCreateParams params = tools(ChatCompletionCreateParams.builder())
                    .model("m").addUserMessage("go").maxCompletionTokens(1000)
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build();

            ChatCompletion whole = client.chat().completions().create(params);
            ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
            int chunks;
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                chunks = (int) stream.stream().peek(accumulator::accumulate).count();
            }
            ChatCompletion streamed = accumulator.chatCompletion();

            assertThat(chunks).isGreaterThan(3);
            ChatCompletion.Choice wholeChoice = whole.choices().getFirst();
            ChatCompletion.Choice streamedChoice = streamed.choices().getFirst();
            assertThat(streamedChoice.finishReason()).isEqualTo(wholeChoice.finishReason());
            assertSameMessage(streamedChoice.message(), wholeChoice.message());
            CompletionUsage usage = streamed.usage().orElseThrow();
            assertThat(usage.promptTokens()).isEqualTo(whole.usage().orElseThrow().promptTokens());
            assertThat(usage.completionTokens()).isEqualTo(whole.usage().orElseThrow().completionTokens());
            List<RecordedRequest> recorded = server.requests();
            assertThat(recorded).extracting(RecordedRequest::stream).containsExactly(false, true);
            assertThat(recorded).extracting(RecordedRequest::maxCompletionTokens).containsExactly(1000, 1000);
            assertThat(recorded.getLast().includeUsage()).isTrue();
            assertThat(recorded.getLast().completionTokens()).isEqualTo((int) usage.completionTokens());
            assertThat(recorded.getLast().promptTokens()).isEqualTo((int) usage.promptTokens());
            server.close();
        }
    }

    @Test
    void aLargeFileStreamsWholeInBoundedTime() throws IOException {
        String content = "line of a large file\n".repeat(5_000);
        String arguments = RawHttp.JSON.createObjectNode().put("path", "big.txt").put("content", content).toString();
        serve(Turn.calling(new ToolCall("write_file", arguments)));
        OpenAIClient client = client(Timeout.builder().request(Duration.ofSeconds(30)).build());
        ChatCompletionCreateParams params = tools(ChatCompletionCreateParams.builder()).model("m").addUserMessage("go")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        long start = System.nanoTime();

        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(accumulator::accumulate);
        }

        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(20_000);
        List<String> events = new RawHttp(server).chatText(
                request(List.of(user("go")), "write_file").put("stream", true)).events();
        assertThat(events).as("a large call goes in larger pieces, not thousands of chunks").hasSizeLessThan(110);
        ChatCompletion streamed = accumulator.chatCompletion();
        assertThat(streamed.choices().getFirst().message().toolCalls().orElseThrow().getFirst().asFunction()
                .function().arguments()).isEqualTo(arguments);
        assertThat(streamed.usage().orElseThrow().completionTokens()).isEqualTo(TokenCounter.count(arguments));
    }

    @Test
    void tokenDelaySpacesTheDeltasSoTheTextGrows() throws Exception {
        serve(new Turn("one two three four five", List.of(), null, Duration.ZERO, null, null, false,
                Duration.ofMillis(200), null));
        List<Long> arrivals = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        long sent = System.nanoTime();

        try (Stream<String> lines = streamLines(request(List.of(user("go"))).put("stream", true), Duration.ofSeconds(20))) {
            lines.filter(line -> line.startsWith("data: {")).forEach(line -> {
                arrivals.add(System.nanoTime());
                texts.add(json(line.substring(6)).path("choices").get(0).path("delta").path("content").asText(""));
            });
        }

        assertThat(texts).containsExactly("", "one ", "two ", "three ", "four ", "five", "");
        assertThat(TimeUnit.NANOSECONDS.toMillis(arrivals.getLast() - sent)).as("five pauses of 200 ms")
                .isGreaterThanOrEqualTo(1_000);
        // Four pauses lie between the first word and the last; a slow start of the client may eat a little.
        assertThat(TimeUnit.NANOSECONDS.toMillis(arrivals.get(5) - arrivals.get(1)))
                .as("the first word arrives well before the last").isGreaterThanOrEqualTo(600);
    }

    @Test
    void stalledStreamSendsItsFirstDeltaThenNothingWhileTheConnectionStaysOpen() throws Exception {
        serve(new Turn("alpha beta gamma", List.of(), null, Duration.ZERO, null, null, false, Duration.ZERO,
                Duration.ZERO));
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (Stream<String> lines = streamLines(request(List.of(user("go"))).put("stream", true),
                    Duration.ofMinutes(1))) {
                lines.filter(line -> !line.isEmpty()).forEach(received::add);
                received.add("<end>");
            } catch (UncheckedIOException e) {
                received.add("<broken>");
            }
        });

        assertThat(received.poll(10, TimeUnit.SECONDS)).contains("\"role\":\"assistant\"");
        assertThat(received.poll(10, TimeUnit.SECONDS)).contains("\"content\":\"alpha \"");
        assertThat(received.poll(1500, TimeUnit.MILLISECONDS)).as("nothing after the stall").isNull();
        RecordedRequest recorded = server.requests().getFirst();
        assertThat(recorded.status()).isEqualTo(200);
        assertThat(recorded.finished()).isFalse();
        assertThat(recorded.completionTokens()).isEqualTo(TokenCounter.count("alpha "));

        long closing = System.nanoTime();
        server.close();
        reader.join(Duration.ofSeconds(10));

        assertThat(reader.isAlive()).as("closing the server ends the stalled stream").isFalse();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing)).isLessThan(5_000);
        assertThat(received).doesNotContain("data: [DONE]");
    }

    @Test
    void stalledStreamEndsByTheClientsReadTimeout() throws IOException {
        serve(new Turn("alpha beta gamma", List.of(), null, Duration.ZERO, null, null, false, Duration.ZERO,
                Duration.ofMillis(200)));
        OpenAIClient client = client(Timeout.builder().request(Duration.ofMinutes(1)).read(Duration.ofMillis(700)).build());
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("m").addUserMessage("go").build();
        List<String> pieces = new ArrayList<>();
        long start = System.nanoTime();

        assertThatThrownBy(() -> {
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(pieces::add)));
            }
        }).satisfies(e -> assertThat(causes(e)).as("okhttp's read timeout")
                .anyMatch(cause -> cause instanceof SocketTimeoutException));

        assertThat(String.join("", pieces)).isEqualTo("alpha beta gamma");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(700L, 10_000L);
        assertThat(server.requests().getFirst().finished()).isFalse();
    }

    @Test
    void stalledPlainAnswerNeverComes() throws Exception {
        serve(new Turn("never", List.of(), null, Duration.ZERO, null, null, false, Duration.ZERO, Duration.ZERO));
        HttpClient http = HttpClient.newHttpClient();
        TokenCounter.count("load the vocabulary now, not within the client's timeout");

        assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .timeout(Duration.ofMillis(800))
                .POST(HttpRequest.BodyPublishers.ofString(request(List.of(user("go"))).toString())).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(HttpTimeoutException.class);

        RecordedRequest recorded = server.requests().getFirst();
        assertThat(recorded.status()).isZero();
        assertThat(recorded.promptTokens()).isPositive();
        assertThat(recorded.finished()).isFalse();
    }

    private static void assertSameMessage(ChatCompletionMessage streamed, ChatCompletionMessage whole) {
        assertThat(streamed.content()).isEqualTo(whole.content());
        List<ChatCompletionMessageToolCall> wholeCalls = whole.toolCalls().orElse(List.of());
        List<ChatCompletionMessageToolCall> streamedCalls = streamed.toolCalls().orElse(List.of());
        assertThat(streamedCalls).hasSameSizeAs(wholeCalls);
        for (int i = 0; i < wholeCalls.size(); i++) {
            var expected = wholeCalls.get(i).asFunction();
            var actual = streamedCalls.get(i).asFunction();
            assertThat(actual.id()).isEqualTo(expected.id());
            assertThat(actual.function().name()).isEqualTo(expected.function().name());
            assertThat(actual.function().arguments()).isEqualTo(expected.function().arguments());
        }
    }

    private static List<Throwable> causes(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable cause = e; cause != null && chain.size() < 20; cause = cause.getCause()) {
            chain.add(cause);
        }
        return chain;
    }

    private static String arguments(List<JsonNode> callDeltas, int index) {
        StringBuilder arguments = new StringBuilder();
        callDeltas.stream().filter(call -> call.path("index").asInt() == index)
                .forEach(call -> arguments.append(call.path("function").path("arguments").asText()));
        return arguments.toString();
    }

    private Stream<String> streamLines(JsonNode body, Duration timeout) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                    .timeout(timeout)
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                    HttpResponse.BodyHandlers.ofLines()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode json(String text) {
        try {
            return RawHttp.JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void serve(Turn turn) throws IOException {
        server = ScriptedModelServer.builder().scenario(new Scenario("streaming", List.of(turn))).build().start();
    }

    private OpenAIClient client(Timeout timeout) {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("k").maxRetries(0)
                .timeout(timeout).build();
        clients.add(client);
        return client;
    }

    private static ChatCompletionCreateParams.Builder tools(ChatCompletionCreateParams.Builder params) {
        for (String name : List.of("read_file", "list_files", "write_file")) {
            params.addFunctionTool(FunctionDefinition.builder().name(name)
                    .parameters(FunctionParameters.builder()
                            .putAdditionalProperty("type", JsonValue.from("object"))
                            .putAdditionalProperty("properties", JsonValue.from(Map.of()))
                            .build())
                    .build());
        }
        return params;
    }
}
