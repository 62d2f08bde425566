package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.JobContexts;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.model.ModelClient;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.quota.Quotas;
import io.nomadshell.controlplane.store.ContextStore;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.ExecResult;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop against an endpoint that answers as real servers do where the scripted model cannot yet
 * (an answer cut at the output cap), with a real Redis and a sandbox that records what it was asked
 * to run. The endpoint answers plain or streamed, as the request asks.
 */
class AgentLoopTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;

    private HttpServer server;
    private final ConcurrentLinkedQueue<ObjectNode> answers = new ConcurrentLinkedQueue<>();
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    private final List<ToolCall> ran = new CopyOnWriteArrayList<>();
    private Quotas quotas = Quotas.none();

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    @BeforeEach
    void startEndpoint() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    @AfterEach
    void stopEndpoint() {
        server.stop(0);
    }

    @Test
    void aCutAnswerNeverRunsItsCallsAndTheModelIsToldToBeShorter() throws Exception {
        answers.add(answer("Writing the file.", "length", call("write_file", "{\"path\": \"big.txt\", \"content\": \"aaaa")));
        answers.add(answer(null, "tool_calls", call("exec", "{\"command\": \"true\"}")));
        answers.add(answer(null, "tool_calls", call("finish", "{\"summary\": \"done\"}")));

        var store = new JobStore(connection);
        var id = store.create(JobIds.next(), "alice", "write big.txt", SandboxResources.DEFAULT, Instant.now(), null);
        var outcome = run(store, id);

        assertThat(outcome).isEqualTo(new Outcome.Finished("done"));
        assertThat(ran).as("only the exec ran; the cut write_file never did").hasSize(1)
                .allSatisfy(call -> assertThat(call.hasExec()).isTrue());
        var second = requests.get(1).path("messages");
        var cut = second.get(second.size() - 2);
        assertThat(cut.path("role").asText()).isEqualTo("assistant");
        assertThat(cut.path("content").asText()).isEqualTo("Writing the file.");
        assertThat(cut.has("tool_calls")).as("the cut call is not replayed: %s", cut).isFalse();
        assertThat(second.get(second.size() - 1).path("content").asText())
                .startsWith("Your answer was cut at the output limit of")
                .contains("so its calls (write_file) were not run").contains("shorter");
        assertThat(store.find(id).orElseThrow().steps()).as("the cut turn is a step").isEqualTo(3);
        assertThat(store.eventsAfter(id, 0, 100)).anySatisfy(event -> {
            assertThat(event.getToolFinished().getCallId()).isEqualTo("s1c0");
            assertThat(event.getToolFinished().getOk()).isFalse();
            assertThat(event.getToolFinished().getSummary()).contains("cut at the output limit");
        });
    }

    @Test
    void answersWithoutCallsAreNudgedAndNotCountedThenEndTheJobInWords() throws Exception {
        for (int i = 0; i < 3; i++) {
            answers.add(answer("I think the answer is 42.", "stop"));
        }
        var store = new JobStore(connection);
        var id = store.create(JobIds.next(), "alice", "think", SandboxResources.DEFAULT, Instant.now(), null);

        var outcome = run(store, id);

        assertThat(outcome).isInstanceOfSatisfying(Outcome.Failed.class, failed -> assertThat(failed.reason())
                .isEqualTo("the model answered 3 times without calling a tool: it may not support tools, or its server"
                        + " drops them (llama-server needs --jinja and a chat template with tools)"));
        assertThat(requests).hasSize(3);
        assertThat(store.find(id).orElseThrow().steps()).isZero();
        assertThat(store.find(id).orElseThrow().promptTokens()).as("every answer's tokens count").isEqualTo(3 * 100);
    }

    @Test
    void aCallLeftOpenByADeadReplicaIsAskedAgainByItsIdInTheSameSandboxAndReportedLostInANewOne() throws Exception {
        for (boolean sameSandbox : new boolean[] {true, false}) {
            answers.add(answer(null, "tool_calls", call("exec", "{\"command\": \"make\"}")));
            answers.add(answer(null, "tool_calls", call("finish", "{\"summary\": \"built\"}")));
            var store = new JobStore(connection);
            var id = store.create(JobIds.next(), "alice", "build", SandboxResources.DEFAULT, Instant.now(), null);
            ran.clear();
            // The replica dies while the call runs: the transcript ends with the call, unanswered.
            assertThatThrownBy(() -> run(store, id, (call, timeout, events) -> {
                throw new InterruptedException("the replica died");
            })).isInstanceOf(InterruptedException.class);

            var outcome = run(store, id, new ToolRunner() {
                @Override
                public ToolResult run(ToolCall call, Duration timeout, Consumer<ToolEvent> events) {
                    ran.add(call);
                    return ToolResult.newBuilder().setCallId(call.getCallId())
                            .setExec(ExecResult.newBuilder().setExitCode(0).setOutput("built once")).build();
                }

                @Override
                public boolean keptCalls() {
                    return sameSandbox;
                }
            });

            assertThat(outcome).isEqualTo(new Outcome.Finished("built"));
            var answered = requests.getLast().path("messages");
            var result = answered.get(answered.size() - 1);
            assertThat(result.path("role").asText()).isEqualTo("tool");
            if (sameSandbox) {
                assertThat(ran).as("asked again by the same id").extracting(ToolCall::getCallId).containsExactly("s1c0");
                assertThat(result.path("content").asText()).contains("built once");
                assertThat(store.eventsAfter(id, 0, 100).stream().filter(event -> event.hasToolStarted()))
                        .as("announced once, when it started").hasSize(1);
            } else {
                assertThat(ran).as("never run again in a new sandbox").isEmpty();
                assertThat(result.path("content").asText()).startsWith("error: the control plane running this job stopped");
            }
        }
    }

    @Test
    void aJobStopsOnceItsKeysTokensOfTheDayAreSpent() throws Exception {
        answers.add(answer(null, "tool_calls", call("exec", "{\"command\": \"make\"}")));
        answers.add(answer(null, "tool_calls", call("exec", "{\"command\": \"make test\"}")));
        answers.add(answer(null, "tool_calls", call("finish", "{\"summary\": \"built\"}")));
        var store = new JobStore(connection);
        var id = store.create(JobIds.next(), "dora", "build", SandboxResources.DEFAULT, Instant.now(), null);
        quotas = Quotas.of(Map.of("dora", new KeyQuota("team-d", 0, 0, 150, 0, 0, 0)));

        var outcome = run(store, id);

        var midnight = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
        assertThat(outcome).isInstanceOfSatisfying(Outcome.Failed.class, failed -> assertThat(failed.reason())
                .isEqualTo("API key team-d used its model tokens of the day: 220 of 150 (tokens_per_day); "
                        + "send the job a message to go on after " + midnight + " (UTC midnight)"));
        assertThat(requests).as("110 tokens each: the third is never sent").hasSize(2);
    }

    private Outcome run(JobStore store, String id) throws Exception {
        return run(store, id, (call, timeout, events) -> {
            ran.add(call);
            return ToolResult.newBuilder().setCallId(call.getCallId()).setExec(ExecResult.newBuilder().setExitCode(0)).build();
        });
    }

    private Outcome run(JobStore store, String id, ToolRunner tools) throws Exception {
        var options = new ModelOptions("http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "key", "fake-model", 0);
        try (var model = ModelClient.connect(options, 8_192);
                var outputs = new CallOutputs(store, new ArtifactStore(dir.resolve("artifacts")), CallOutputs.DEFAULT_WINDOW)) {
            var contexts = new JobContexts(new ContextStore(connection),
                    ContextOptions.promptBudget(model.profile().window(), options.maxOutputTokens()), model.profile(),
                    ToolCatalogue.definitions(), AgentLoop.SYSTEM_PROMPT);
            var loop = new AgentLoop(model, store, AgentLimits.DEFAULT, contexts, ContextOptions.DEFAULT, outputs, quotas);
            return loop.run(store.find(id).orElseThrow(), tools);
        }
    }

    private static ObjectNode call(String name, String arguments) {
        var call = JSON.createObjectNode().put("type", "function");
        call.putObject("function").put("name", name).put("arguments", arguments);
        return call;
    }

    private static ObjectNode answer(String content, String finishReason, ObjectNode... calls) {
        var message = JSON.createObjectNode().put("role", "assistant").put("content", content);
        if (calls.length > 0) {
            var list = message.putArray("tool_calls");
            for (int i = 0; i < calls.length; i++) {
                list.add(calls[i].deepCopy().put("id", "call_" + i));
            }
        }
        return JSON.createObjectNode().put("finish_reason", finishReason).set("message", message);
    }

    /** Chat completions from the queue (plain, or streamed in chunks when asked); 404 for anything else. */
    private void answer(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().endsWith("/chat/completions")) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            var request = JSON.readTree(exchange.getRequestBody());
            requests.add(request);
            var next = answers.poll();
            if (next == null) {
                send(exchange, 500, "application/json", "{\"error\": {\"message\": \"no more answers\"}}");
                return;
            }
            var message = (ObjectNode) next.get("message");
            var usage = JSON.createObjectNode().put("prompt_tokens", 100).put("completion_tokens", 10).put("total_tokens", 110);
            if (!request.path("stream").asBoolean(false)) {
                var completion = completion("chat.completion");
                completion.putArray("choices").addObject().put("index", 0).put("finish_reason", next.get("finish_reason").asText())
                        .set("message", message.deepCopy().putNull("refusal"));
                completion.set("usage", usage);
                send(exchange, 200, "application/json", completion.toString());
                return;
            }
            var chunks = new ArrayList<ObjectNode>();
            var delta = message.deepCopy();
            if (delta.has("tool_calls")) {
                var indexed = (ArrayNode) delta.get("tool_calls");
                for (int i = 0; i < indexed.size(); i++) {
                    ((ObjectNode) indexed.get(i)).put("index", i);
                }
            }
            var first = completion("chat.completion.chunk");
            first.putArray("choices").addObject().put("index", 0).putNull("finish_reason").set("delta", delta);
            chunks.add(first);
            var last = completion("chat.completion.chunk");
            last.putArray("choices").addObject().put("index", 0).put("finish_reason", next.get("finish_reason").asText())
                    .putObject("delta");
            chunks.add(last);
            var counted = completion("chat.completion.chunk");
            counted.putArray("choices");
            counted.set("usage", usage);
            chunks.add(counted);
            var body = new StringBuilder();
            chunks.forEach(chunk -> body.append("data: ").append(chunk).append("\n\n"));
            body.append("data: [DONE]\n\n");
            send(exchange, 200, "text/event-stream", body.toString());
        }
    }

    private static ObjectNode completion(String object) {
        return JSON.createObjectNode().put("id", "chatcmpl-1").put("object", object).put("created", 1).put("model", "fake-model");
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        var bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
