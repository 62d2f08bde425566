package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.scriptedmodel.RecordedRequest;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import io.nomadshell.scriptedmodel.ScriptedModelServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tricks real model servers play, each played by the scripted model against the real server
 * (real Redis, real bubblewrap sandboxes, the real daemon): answers cut at the output limit,
 * arguments that are not JSON, tool calls written as text, templates that drop tools and endpoints
 * that refuse them, endpoints without vision, a small window told by the server and a tokenizer
 * that counts more than ours, answers streamed word by word, and a stream that stalls.
 *
 * <p>What a failed job leaves (its partial zip) is proven by {@link PartialResultsTest}.
 */
class ModelQuirksTest {
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);

    @TempDir
    Path tmp;

    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aCutAnswerIsNotRunNorReplayedAndTheModelIsToldSo() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("cut-answer", tmp, "")), UnaryOperator.identity());

        job.assertStatus("complete");
        assertThat(job.status().path("steps").asInt()).as("the cut turn counts as a step").isEqualTo(3);
        var requests = model.requests();
        assertThat(requests).hasSize(3);
        assertThat(requests.get(0).finishReason()).isEqualTo("length");
        var next = requests.get(1).body();
        var cutTurn = Fixtures.assistants(next).get(0);
        assertThat(cutTurn.path("tool_calls").isEmpty()).as("the cut turn is replayed without its calls: %s", cutTurn)
                .isTrue();
        assertThat(userTexts(next)).anySatisfy(text -> assertThat(text)
                .contains("cut at the output limit").contains("write_file").contains("were not run"));
        assertThat(Fixtures.events(cluster.baseUrl(), job.id())).as("the cut call shows as refused").anySatisfy(event -> {
            assertThat(event.event()).isEqualTo("tool_finished");
            assertThat(event.data()).contains("\"call_id\":\"s1c0\"").doesNotContain("\"ok\":true")
                    .contains("cut at the output limit");
        });
        var files = Fixtures.unzip(cluster.rest().getBytes("/download/" + job.id()).body());
        assertThat(files).containsEntry("short.txt", "short\n").doesNotContainKey("cut.txt");
    }

    @Test
    void invalidArgumentsAreRefusedAndNeverReachTheNextRequest() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("invalid-arguments", tmp, "")),
                UnaryOperator.identity());

        // The scripted model answers 500 to a history that replays arguments that are not JSON,
        // so a complete job with every request answered proves they were never replayed.
        job.assertStatus("complete");
        assertThat(model.requests()).hasSize(3).allSatisfy(request -> assertThat(request.status()).isEqualTo(200));
        assertThat(Fixtures.events(cluster.baseUrl(), job.id())).as("the refused call is an event").anySatisfy(event -> {
            assertThat(event.event()).isEqualTo("tool_finished");
            assertThat(event.data()).contains("\"call_id\":\"s1c0\"").doesNotContain("\"ok\":true")
                    .contains("not valid JSON");
        });
        var files = Fixtures.unzip(cluster.rest().getBytes("/download/" + job.id()).body());
        assertThat(files).containsEntry("good.txt", "good\n").doesNotContainKey("bad.txt");
    }

    @Test
    void toolCallsWrittenAsTextRun() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("text-tool-calls", tmp, "")),
                UnaryOperator.identity());

        job.assertStatus("complete");
        assertThat(model.requests()).hasSize(2);
        assertThat(Fixtures.unzip(cluster.rest().getBytes("/download/" + job.id()).body()))
                .containsEntry("text.txt", "from text\n");
    }

    @Test
    void aTemplateThatDropsToolsEndsTheJobAtOnceSayingWhatToDo() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("tools-dropped", tmp, ""))
                .toolsSupported(false), UnaryOperator.identity());

        job.assertStatus("error");
        assertThat(model.requests()).as("the job ended within two model calls").hasSizeBetween(1, 2);
        assertThat(job.status().path("error").asText()).contains("tools").contains("--jinja");
    }

    @Test
    void anEndpointThatRefusesToolsEndsTheJobAfterOneCall() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("tools-dropped", tmp, ""))
                .toolsRejected(true), UnaryOperator.identity());

        job.assertStatus("error");
        assertThat(model.requests()).hasSize(1);
        assertThat(model.requests().get(0).status()).isEqualTo(400);
        assertThat(job.status().path("error").asText()).contains("does not support tools")
                .contains("does not pass tools to the model").contains("--jinja");
    }

    @Test
    void aModelWithoutVisionGetsScreenshotsAsTheirDescription() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("screenshot-text-only", tmp, ""))
                .acceptsImages(false), UnaryOperator.identity());

        job.assertStatus("complete");
        var requests = model.requests();
        assertThat(requests).allSatisfy(request -> {
            assertThat(request.status()).isEqualTo(200);
            assertThat(request.body().toString()).as("no image part is ever sent").doesNotContain("image_url");
        });
        var after = requests.getLast().body();
        assertThat(userTexts(after)).as("the request after the screenshot describes it").anySatisfy(text -> assertThat(text)
                .contains("Image 1 of 1 from tool call s1c0: a screenshot of 1280x800 from computer")
                .contains("the model endpoint does not take images"));
    }

    @Test
    void aWindowOfTwoThousandTokensToldByTheServerIsNeverOverrun() throws Exception {
        int window = 2_048;
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("small-window", tmp, ""))
                .contextWindow(window), UnaryOperator.identity());

        job.assertStatus("complete");
        assertThat(model.requests()).hasSizeGreaterThanOrEqualTo(5).allSatisfy(request -> fitsTheWindow(request, window));
    }

    @Test
    void aTokenizerThatCountsMoreIsCalibratedAgainstTheServersUsage() throws Exception {
        int window = 4_096;
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("sizeable-outputs", tmp, ""))
                .contextWindow(window).tokenScale(1.3), UnaryOperator.identity());

        job.assertStatus("complete");
        assertThat(job.status().path("steps").asInt()).isEqualTo(11);
        var requests = model.requests();
        assertThat(requests).hasSizeGreaterThanOrEqualTo(11)
                .allSatisfy(request -> assertThat(request.status()).as("no request was refused as too long").isEqualTo(200));
        // The first request is sized in our count (the server's is not known before its first
        // usage); every later step in the server's, so that it and its output cap fit the window.
        // (Condensing requests, shaped otherwise, are sized by the steps' ratio: they may miss by a
        // few percent, which llama-server allows; see docs/models/quirks-tests.md.)
        var steps = requests.stream().filter(request -> !request.body().path("tools").isEmpty()).toList();
        assertThat(steps).hasSize(11);
        assertThat(steps.subList(1, steps.size())).allSatisfy(request -> fitsTheWindow(request, window));
        assertThat(requests).as("the window made older steps condense").anySatisfy(request -> assertThat(
                request.body().path("messages").get(0).path("content").asText()).contains("You condense the history"));
    }

    @Test
    void aLongAnswerReachesWatchersInPiecesBeforeTheWholeMessage() throws Exception {
        var job = run(ScriptedModelServer.builder().scenario(Fixtures.scenario("streamed-answer", tmp, "")),
                UnaryOperator.identity());

        job.assertStatus("complete");
        assertThat(model.requests().get(0).stream()).as("the answer was asked for as a stream").isTrue();
        var events = Fixtures.events(cluster.baseUrl(), job.id());
        var pieces = new StringBuilder();
        int deltas = 0;
        String message = null;
        for (var event : events) {
            var data = Rest.JSON.readTree(event.data());
            if (event.event().equals("assistant_delta") && data.path("assistant_delta").path("step").asInt() == 1) {
                assertThat(message).as("a piece after the whole message").isNull();
                pieces.append(data.path("assistant_delta").path("text").asText());
                deltas++;
            } else if (event.event().equals("assistant_message") && data.path("assistant_message").path("step").asInt() == 1) {
                message = data.path("assistant_message").path("text").asText();
            }
        }
        assertThat(deltas).as("pieces of step 1 before its message").isGreaterThanOrEqualTo(3);
        assertThat(message).startsWith("I will start by looking at the workspace");
        assertThat(pieces.toString()).isEqualTo(message);
    }

    @Test
    void aStalledStreamEndsTheJobAtTheIdleTimeout() throws Exception {
        var builder = ScriptedModelServer.builder().scenario(Fixtures.scenario("stalled-stream", tmp, ""));
        var job = run(builder, options -> options.model(new ModelOptions(model.baseUrl(), "test", "scripted", 0,
                ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS, Duration.ofSeconds(2))));

        job.assertStatus("error");
        assertThat(job.status().path("error").asText()).contains("sent no token for 2 s: idle timeout");
        assertThat(model.requests()).as("no retry was asked for").hasSize(1);
        assertThat(model.requests().get(0).finished()).as("the stream never finished").isFalse();
    }

    private static void fitsTheWindow(RecordedRequest request, int window) {
        assertThat(request.status()).as("answered, not refused: %s", request.finishReason()).isEqualTo(200);
        assertThat(request.maxTokens()).as("the output cap is sent").isNotNull();
        assertThat(request.promptTokens() + request.maxTokens())
                .as("prompt (%d server tokens) + max_tokens (%d)", request.promptTokens(), request.maxTokens())
                .isLessThanOrEqualTo(window);
    }

    /** A job that ended: its id and last status. */
    private record Ended(String id, JsonNode status, String history) {
        void assertStatus(String expected) {
            assertThat(status.path("status").asText()).as("%s\n%s", status, history).isEqualTo(expected);
        }
    }

    /** Starts the model (so {@code configure} may use its address), the server, and runs one job to its end. */
    private Ended run(ScriptedModelServerBuilder builder, UnaryOperator<ControlPlaneOptions.Builder> configure)
            throws Exception {
        model = builder.build().start();
        cluster = TestCluster.start(tmp.resolve("server"), model.baseUrl(), configure);
        var rest = cluster.rest();
        var id = rest.schedule("Do the task");
        var status = rest.awaitEnd(id, JOB_TIMEOUT).last();
        return new Ended(id, status, Fixtures.history(cluster.port(), id));
    }

    /** The text of every user message, parts joined. */
    private static List<String> userTexts(JsonNode request) {
        var found = new ArrayList<String>();
        request.path("messages").forEach(message -> {
            if (message.path("role").asText().equals("user")) {
                var content = message.path("content");
                if (content.isTextual()) {
                    found.add(content.asText());
                } else {
                    var text = new StringBuilder();
                    content.forEach(part -> text.append(part.path("text").asText()).append('\n'));
                    found.add(text.toString());
                }
            }
        });
        return found;
    }
}
