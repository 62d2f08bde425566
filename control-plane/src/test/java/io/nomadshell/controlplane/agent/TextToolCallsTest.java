package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.models.chat.completions.ChatCompletionMessage;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Tool calls a server left in the answer's text are found and made structured. */
class TextToolCallsTest {

    private static List<TextToolCalls.Call> calls(String text) {
        return TextToolCalls.find(text).map(TextToolCalls.Found::calls).orElse(List.of());
    }

    @Test
    void taggedCallsOneOrSeveralWithArgumentsAsObjectOrString() {
        var found = TextToolCalls.find("""
                I will write the file, then run it.
                <tool_call>
                {"name": "write_file", "arguments": {"path": "hello.py", "content": "print('Hello')"}}
                </tool_call>
                <tool_call>{"name": "exec", "arguments": "{\\"command\\": \\"python3 hello.py\\"}"}</tool_call>""").orElseThrow();
        assertThat(found.calls()).containsExactly(
                new TextToolCalls.Call("write_file", "{\"path\":\"hello.py\",\"content\":\"print('Hello')\"}"),
                new TextToolCalls.Call("exec", "{\"command\": \"python3 hello.py\"}"));
        assertThat(found.rest()).isEqualTo("I will write the file, then run it.");
    }

    @Test
    void anUnclosedTagRunsToTheEnd() {
        assertThat(calls("<tool_call>{\"name\": \"finish\", \"arguments\": {\"summary\": \"done\"}}"))
                .containsExactly(new TextToolCalls.Call("finish", "{\"summary\":\"done\"}"));
    }

    @Test
    void fencedAndBareJsonObjectsWithNameAndArguments() {
        assertThat(calls("Here:\n```json\n{\"name\": \"exec\", \"arguments\": {\"command\": \"ls\"}}\n```\n"))
                .containsExactly(new TextToolCalls.Call("exec", "{\"command\":\"ls\"}"));
        assertThat(calls("  {\"name\": \"exec\", \"parameters\": {\"command\": \"ls\"}}  "))
                .containsExactly(new TextToolCalls.Call("exec", "{\"command\":\"ls\"}"));
        assertThat(calls("{\"type\": \"function\", \"function\": {\"name\": \"finish\", \"arguments\": {}}}"))
                .containsExactly(new TextToolCalls.Call("finish", "{}"));
    }

    @Test
    void jsonThatIsNotACallIsLeftAlone() {
        assertThat(TextToolCalls.find("```json\n{\"name\": \"my-app\", \"version\": \"1.0.0\"}\n```")).isEmpty();
        assertThat(TextToolCalls.find("{\"name\": \"my-app\"}")).isEmpty();
        assertThat(TextToolCalls.find("<tool_call>not json</tool_call>")).isEmpty();
        assertThat(TextToolCalls.find("All done, nothing more to do.")).isEmpty();
    }

    @Test
    void aMessageWithCallsInItsTextGetsThemStructured() {
        var message = ChatCompletionMessage.builder().refusal(Optional.empty())
                .content("Let me look.<tool_call>{\"name\": \"exec\", \"arguments\": {\"command\": \"ls\"}}</tool_call>").build();
        var recovered = TextToolCalls.recover(message);
        assertThat(recovered.content()).contains("Let me look.");
        var call = recovered.toolCalls().orElseThrow().get(0).asFunction();
        assertThat(call.function().name()).isEqualTo("exec");
        assertThat(call.function().arguments()).isEqualTo("{\"command\":\"ls\"}");

        var plain = ChatCompletionMessage.builder().refusal(Optional.empty()).content("Just words.").build();
        assertThat(TextToolCalls.recover(plain)).isSameAs(plain);
    }
}
