package io.nomadshell.scriptedmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioTest {

    /** The tools a job offers. */
    private static final Set<String> JOB_TOOLS = Set.of("exec", "read_file", "write_file", "list_files", "finish");

    @TempDir
    Path dir;

    @Test
    void bundledHelloWorldWritesRunsChecksDocumentsAndFinishes() throws IOException {
        Scenario scenario = Scenario.bundled("hello-world");

        assertThat(scenario.name()).isEqualTo("hello-world");
        assertThat(scenario.turns()).hasSize(4);
        assertThat(scenario.turns()).flatMap(Turn::toolCalls).extracting(ToolCall::name)
                .containsExactly("write_file", "exec", "write_file", "finish")
                .allMatch(JOB_TOOLS::contains);
        assertThat(arguments(scenario, 0)).isEqualTo(RawHttp.JSON.readTree(
                "{\"path\":\"hello.py\",\"content\":\"print('Hello World')\\n\"}"));
        assertThat(arguments(scenario, 1).path("command").asText()).isEqualTo("python3 hello.py");
        assertThat(scenario.turns().get(2).expect()).isEqualTo("Hello World");
        assertThat(arguments(scenario, 2).path("path").asText()).isEqualTo("README.md");
        assertThat(arguments(scenario, 2).path("content").asText()).contains("python3 hello.py");
        assertThat(arguments(scenario, 3).path("summary").asText()).contains("hello.py");
    }

    @Test
    void loadsEveryFieldFromAFile() throws IOException {
        Path file = write("""
                { "name": "all-fields",
                  "description": "every field once",
                  "turns": [
                    { "content": "thinking" },
                    { "expect": "ok", "delay_ms": 250,
                      "fail": {"status": 503, "message": "busy", "times": 2},
                      "tool_calls": [ {"name": "finish", "arguments_raw": "{\\"summary\\": "},
                                      {"name": "list_files"} ] },
                    { "content": "bye", "fail": {"status": 429} }
                  ] }
                """);

        Scenario scenario = Scenario.load(file);

        assertThat(scenario.name()).isEqualTo("all-fields");
        Turn first = scenario.turns().get(0);
        assertThat(first.content()).isEqualTo("thinking");
        assertThat(first.toolCalls()).isEmpty();
        assertThat(first.delay()).isEqualTo(Duration.ZERO);
        assertThat(first.fail()).isNull();
        Turn second = scenario.turns().get(1);
        assertThat(second.content()).isNull();
        assertThat(second.expect()).isEqualTo("ok");
        assertThat(second.delay()).isEqualTo(Duration.ofMillis(250));
        assertThat(second.fail()).isEqualTo(new InjectedFailure(503, "busy", 2));
        assertThat(second.toolCalls()).containsExactly(
                new ToolCall("finish", "{\"summary\": "), new ToolCall("list_files", "{}"));
        assertThat(scenario.turns().get(2).fail())
                .isEqualTo(new InjectedFailure(429, InjectedFailure.DEFAULT_MESSAGE, 1));
    }

    @Test
    void notJsonIsNamedWithFileAndLine() throws IOException {
        Path file = write("{ \"name\": \"x\",\n  \"turns\": [ { \"content\": \"a\" ] }");

        assertThatThrownBy(() -> Scenario.load(file))
                .isInstanceOf(ScenarioFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not valid JSON")
                .hasMessageContaining("line 2");
    }

    @Test
    void misspeltFieldIsRejectedWithItsPlace() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\"}, {\"tool_call\": []}]}",
                "at turns[1].tool_call: unknown field");
    }

    @Test
    void missingNameIsRejected() throws IOException {
        assertMalformed("{\"turns\": [{\"content\": \"a\"}]}", "at name: expected a non-empty string");
    }

    @Test
    void emptyTurnsAreRejected() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": []}", "at turns: expected a non-empty array");
    }

    @Test
    void turnWithNothingToSayIsRejected() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"delay_ms\": 5}]}",
                "at turns[0]: a turn needs \"content\" or \"tool_calls\"");
    }

    @Test
    void argumentsAndArgumentsRawTogetherAreRejected() throws IOException {
        assertMalformed("""
                {"name": "x", "turns": [{"tool_calls": [{"name": "f", "arguments": {}, "arguments_raw": "{"}]}]}""",
                "at turns[0].tool_calls[0]: give \"arguments\" or \"arguments_raw\", not both");
    }

    @Test
    void argumentsMustBeAnObject() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"tool_calls\": [{\"name\": \"f\", \"arguments\": \"{}\"}]}]}",
                "at turns[0].tool_calls[0].arguments: expected a JSON object");
    }

    @Test
    void expectOnTheFirstTurnIsRejected() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\", \"expect\": \"b\"}]}",
                "at turns[0].expect: the first turn has no tool results");
    }

    @Test
    void failWithASuccessStatusIsRejected() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\", \"fail\": {\"status\": 200}}]}",
                "at turns[0].fail.status: expected a whole number from 400 to 599");
    }

    @Test
    void negativeDelayIsRejected() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\", \"delay_ms\": -1}]}",
                "at turns[0].delay_ms: expected a whole number");
    }

    @Test
    void deliveryFieldsAreRead() throws IOException {
        Scenario scenario = Scenario.load(write("""
                { "name": "delivery",
                  "turns": [
                    { "content": "slow words", "token_delay_ms": 50, "stall_after_ms": 1000 },
                    { "cut": true, "tool_calls": [ {"name": "write_file", "arguments_raw": "{\\"path\\": \\"a"} ] },
                    { "content": "plain" }
                  ] }
                """));

        Turn slow = scenario.turns().get(0);
        assertThat(slow.tokenDelay()).isEqualTo(Duration.ofMillis(50));
        assertThat(slow.stallAfter()).isEqualTo(Duration.ofSeconds(1));
        assertThat(slow.cut()).isFalse();
        Turn cut = scenario.turns().get(1);
        assertThat(cut.cut()).isTrue();
        assertThat(cut.toolCalls()).containsExactly(new ToolCall("write_file", "{\"path\": \"a"));
        Turn plain = scenario.turns().get(2);
        assertThat(plain.tokenDelay()).isEqualTo(Duration.ZERO);
        assertThat(plain.stallAfter()).isNull();
    }

    @Test
    void cutMustBeABoolean() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\", \"cut\": \"yes\"}]}",
                "at turns[0].cut: expected true or false");
    }

    @Test
    void tokenDelayIsBounded() throws IOException {
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\", \"token_delay_ms\": 10001}]}",
                "at turns[0].token_delay_ms: expected a whole number from 0 to 10000");
        assertMalformed("{\"name\": \"x\", \"turns\": [{\"content\": \"a\", \"stall_after_ms\": -5}]}",
                "at turns[0].stall_after_ms: expected a whole number from 0 to 600000");
    }

    @Test
    void unknownBundledScenarioIsAnError() {
        assertThatThrownBy(() -> Scenario.bundled("no-such-scenario"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no bundled scenario named 'no-such-scenario'");
        assertThatThrownBy(() -> Scenario.bundled("../scenarios/hello-world"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a bundled scenario name");
    }

    private JsonNode arguments(Scenario scenario, int turn) throws IOException {
        return RawHttp.JSON.readTree(scenario.turns().get(turn).toolCalls().get(0).arguments());
    }

    @Test
    void repeatExpandsATurnAndFillsInItsIndex() throws IOException {
        Path file = write("""
                { "name": "long",
                  "turns": [
                    {"content": "start", "tool_calls": [{"name": "exec", "arguments": {"command": "true"}}]},
                    {"repeat": 3, "expect": "out {{turn}}",
                     "tool_calls": [{"name": "exec", "arguments": {"command": "echo {{turn}}"}}]}
                  ],
                  "matched_turns": [{"system_contains": "condense", "content": "a summary"}] }
                """);

        Scenario scenario = Scenario.load(file);

        assertThat(scenario.turns()).hasSize(4);
        assertThat(arguments(scenario, 3).path("command").asText()).isEqualTo("echo 3");
        assertThat(scenario.turns().get(2).expect()).isEqualTo("out 2");
        assertThat(scenario.matchedTurns()).containsExactly(new MatchedTurn("condense", "a summary"));
    }

    @Test
    void repeatMustBePositive() throws IOException {
        assertMalformed("""
                {"name": "x", "turns": [{"content": "a", "repeat": 0}]}
                """, "at turns[0].repeat: expected a whole number from 1");
    }

    @Test
    void matchedTurnNeedsContent() throws IOException {
        assertMalformed("""
                {"name": "x", "turns": [{"content": "a"}], "matched_turns": [{"system_contains": "s"}]}
                """, "at matched_turns[0].content: expected a non-empty string");
    }

    private void assertMalformed(String json, String message) throws IOException {
        Path file = write(json);
        assertThatThrownBy(() -> Scenario.load(file))
                .isInstanceOf(ScenarioFormatException.class)
                .hasMessageStartingWith("scenario " + file)
                .hasMessageContaining(message);
    }

    private Path write(String json) throws IOException {
        return Files.writeString(Files.createTempFile(dir, "scenario", ".json"), json);
    }
}
