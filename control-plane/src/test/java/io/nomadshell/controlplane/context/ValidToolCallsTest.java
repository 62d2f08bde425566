package io.nomadshell.controlplane.context;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The history never carries a call that a server would refuse to read back. */
class ValidToolCallsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ChatCompletionMessageToolCall call(String id, String name, String arguments) {
        return ChatCompletionMessageToolCall.ofFunction(ChatCompletionMessageFunctionToolCall.builder().id(id)
                .function(ChatCompletionMessageFunctionToolCall.Function.builder().name(name).arguments(arguments).build())
                .build());
    }

    private static ChatCompletionMessage message(ChatCompletionMessageToolCall... calls) {
        return ChatCompletionMessage.builder().content(Optional.of("text")).refusal(Optional.empty())
                .toolCalls(Arrays.asList(calls)).build();
    }

    private static String arguments(ChatCompletionMessage message, int i) {
        return message.toolCalls().orElseThrow().get(i).asFunction().function().arguments();
    }

    @Test
    void validCallsAreLeftAsTheyAre() {
        var message = message(call("a", "exec", "{\"command\": \"ls\"}"), call("b", "finish", ""));
        var repaired = ValidToolCalls.repair(message, 3);
        assertThat(repaired.errors()).isEmpty();
        assertThat(arguments(repaired.message(), 0)).isEqualTo("{\"command\": \"ls\"}");
        assertThat(arguments(repaired.message(), 1)).as("no arguments are an empty object").isEqualTo("{}");
    }

    @Test
    void invalidArgumentsBecomeAnObjectQuotingThemAndTheErrorIsKept() throws Exception {
        var cut = "{\"path\": \"a.py\", \"content\": \"" + "x".repeat(500);
        var message = message(call("a", "write_file", cut), call("b", "exec", "[1, 2]"), call("c", "exec", "{\"command\": \"ls\"} trailing"));
        var repaired = ValidToolCalls.repair(message, 3);

        assertThat(repaired.errors()).containsOnlyKeys("a", "b", "c");
        assertThat(repaired.errors().get("a")).startsWith("the arguments of write_file are not valid JSON (");
        assertThat(repaired.errors().get("b")).isEqualTo("the arguments of exec must be one JSON object");
        for (int i = 0; i < 3; i++) {
            var replaced = JSON.readTree(arguments(repaired.message(), i));
            assertThat(replaced.isObject()).isTrue();
            assertThat(replaced.path("invalid_arguments").isTextual()).isTrue();
        }
        assertThat(JSON.readTree(arguments(repaired.message(), 0)).path("invalid_arguments").asText())
                .hasSize(ValidToolCalls.QUOTED + 1).startsWith("{\"path\": \"a.py\"");
        assertThat(repaired.message().content()).contains("text");
    }

    @Test
    void missingAndRepeatedIdsGetIdsOfTheirOwn() {
        var repaired = ValidToolCalls.repair(message(call("", "exec", "{}"), call("x", "exec", "{}"), call("x", "exec", "{}")), 7);
        assertThat(repaired.message().toolCalls().orElseThrow()).extracting(c -> c.asFunction().id())
                .containsExactly("call_s7_0", "x", "call_s7_2");
    }

    @Test
    void aMessageWithoutCallsIsUntouched() {
        var message = ChatCompletionMessage.builder().content(Optional.of("hi")).refusal(Optional.empty()).build();
        assertThat(ValidToolCalls.repair(message, 1).message()).isSameAs(message);
    }
}
