package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.agent.AgentLimits;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.PriceTable;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Answers shaped as real models shape them, through the real server: arguments that are not JSON,
 * tool calls written in the text, answers without a call, and a window of a thousand tokens.
 */
class AnswerShapesTest {
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void invalidArgumentsAreAnsweredWithTheErrorAndNeverReplayed(@TempDir Path tmp) throws Exception {
        var broken = "{\"path\": \"a.txt\", \"content\": \"hel";
        var job = run(tmp, """
                {"name": "invalid-arguments",
                 "turns": [
                   {"tool_calls": [{"name": "write_file", "arguments_raw": %s}]},
                   {"expect": "error: the arguments of write_file are not valid JSON",
                    "tool_calls": [{"name": "write_file", "arguments": {"path": "a.txt", "content": "hello"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "wrote a.txt"}}]}
                 ]}
                """.formatted(Rest.JSON.writeValueAsString(broken)), options -> options);

        assertThat(job.status().path("status").asText()).as("%s", job.status()).isEqualTo("complete");
        assertThat(job.status().path("steps").asInt()).isEqualTo(3);
        var requests = model.receivedRequests();
        assertThat(requests).hasSize(3);
        for (var request : requests.subList(1, 3)) {
            var call = Fixtures.assistants(request).get(0).path("tool_calls").get(0).path("function");
            var arguments = Rest.JSON.readTree(call.path("arguments").asText());
            assertThat(arguments.path("invalid_arguments").asText()).as("the history quotes them in a valid object")
                    .isEqualTo(broken);
        }
        var events = Fixtures.events(cluster.baseUrl(), job.id());
        assertThat(events).as("the refused call is an event").anySatisfy(event -> {
            assertThat(event.event()).isEqualTo("tool_finished");
            assertThat(event.data()).contains("\"call_id\":\"s1c0\"").doesNotContain("\"ok\":true")
                    .contains("not valid JSON");
        });
        assertThat(Fixtures.unzip(cluster.rest().getBytes("/download/" + job.id()).body()))
                .containsEntry("a.txt", "hello");
    }

    @Test
    void toolCallsWrittenAsTextRunAsCalls(@TempDir Path tmp) throws Exception {
        var job = run(tmp, """
                {"name": "text-calls",
                 "turns": [
                   {"content": "I will write it.\\n<tool_call>\\n{\\"name\\": \\"write_file\\", \\"arguments\\": {\\"path\\": \\"hello.txt\\", \\"content\\": \\"Hello\\"}}\\n</tool_call>"},
                   {"content": "```json\\n{\\"name\\": \\"exec\\", \\"arguments\\": {\\"command\\": \\"cat hello.txt\\"}}\\n```"},
                   {"expect": "Hello", "content": "{\\"name\\": \\"finish\\", \\"arguments\\": {\\"summary\\": \\"wrote hello.txt\\"}}"}
                 ]}
                """, options -> options);

        assertThat(job.status().path("status").asText()).as("%s", job.status()).isEqualTo("complete");
        assertThat(job.status().path("steps").asInt()).isEqualTo(3);
        var second = model.receivedRequests().get(1);
        var assistant = Fixtures.assistants(second).get(0);
        assertThat(assistant.path("tool_calls").get(0).path("function").path("name").asText()).isEqualTo("write_file");
        assertThat(assistant.path("content").asText()).as("the history holds the structured call, not its text")
                .isEqualTo("I will write it.");
        assertThat(Fixtures.unzip(cluster.rest().getBytes("/download/" + job.id()).body()))
                .containsEntry("hello.txt", "Hello");
    }

    @Test
    void answersWithoutACallAreNudgedNotCountedAsStepsAndStreamedToWatchers(@TempDir Path tmp) throws Exception {
        var job = run(tmp, """
                {"name": "nudged",
                 "turns": [
                   {"content": "Let me think about it."},
                   {"content": "Still thinking."},
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "true"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}]}
                 ]}
                """, options -> options.limits(new AgentLimits(2, Duration.ofMinutes(5), Duration.ofMinutes(1))));

        assertThat(job.status().path("status").asText()).as("two steps were enough: the nudges were not steps (%s)", job.status())
                .isEqualTo("complete");
        assertThat(job.status().path("steps").asInt()).isEqualTo(2);
        var events = Fixtures.events(cluster.baseUrl(), job.id());
        var kinds = events.stream().map(Sse.Event::event).toList();
        int delta = kinds.indexOf("assistant_delta");
        assertThat(delta).as("the words reached watchers as they came: %s", kinds).isNotNegative();
        int message = kinds.indexOf("assistant_message");
        assertThat(message).as("the whole answer follows its pieces: %s", kinds).isGreaterThan(delta);
        var pieces = new StringBuilder();
        for (var event : events.subList(delta, message)) {
            if (event.event().equals("assistant_delta")) {
                pieces.append(Rest.JSON.readTree(event.data()).path("assistant_delta").path("text").asText());
            }
        }
        assertThat(pieces.toString()).isEqualTo("Let me think about it.");
    }

    @Test
    void aWindowOfAThousandTokensRunsAJobWithTheEssentialTools(@TempDir Path tmp) throws Exception {
        var job = run(tmp, """
                {"name": "tiny-window",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "echo hi > hi.txt"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "wrote hi.txt"}}]}
                 ]}
                """, options -> options.context(new ContextOptions(1_024, 0, 0, PriceTable.BUILT_IN)));

        assertThat(job.status().path("status").asText()).as("%s", job.status()).isEqualTo("complete");
        for (var request : model.receivedRequests()) {
            var tools = new ArrayList<String>();
            request.path("tools").forEach(tool -> tools.add(tool.path("function").path("name").asText()));
            assertThat(tools).containsExactly("exec", "finish");
        }
        assertThat(model.promptTokenCounts()).allSatisfy(tokens -> assertThat(tokens).isLessThanOrEqualTo(768));
    }

    /** A job that ended: its id and last status. */
    private record Ended(String id, JsonNode status) {}

    private Ended run(Path tmp, String scenario, UnaryOperator<ControlPlaneOptions.Builder> configure) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("scenario.json"), scenario)))
                .build().start();
        cluster = TestCluster.start(tmp.resolve("server"), model.baseUrl(), configure);
        var rest = cluster.rest();
        var id = rest.schedule("Write a file");
        return new Ended(id, rest.awaitEnd(id, Duration.ofMinutes(2)).last());
    }
}
