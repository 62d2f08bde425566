package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Tool calls a server left in the answer's text instead of its {@code tool_calls} (a chat template
 * the server could not parse calls with): {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}
 * blocks, one or several, or fenced ({@code ```json}) or bare JSON objects with a name and
 * arguments. Found calls become structured ones, so the history holds them in the structured form.
 */
final class TextToolCalls {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A block whose closing tag the model never wrote runs to the end of the text. */
    private static final Pattern TAGGED = Pattern.compile("(?s)<tool_call>(.*?)(?:</tool_call>|\\z)");
    private static final Pattern FENCED = Pattern.compile("(?s)```(?:json)?[ \\t]*\\n?(.*?)```");

    /** A call found in the text. */
    record Call(String name, String arguments) {}

    /** The calls found, and the text around them. */
    record Found(List<Call> calls, String rest) {}

    private TextToolCalls() {}

    /**
     * The message with the calls its text holds as structured calls (their ids left blank, for
     * {@code ValidToolCalls} to give); the message itself when it has structured calls or its text none.
     */
    static ChatCompletionMessage recover(ChatCompletionMessage message) {
        requireNonNull(message, "message");
        if (message.toolCalls().map(calls -> !calls.isEmpty()).orElse(false)) {
            return message;
        }
        var found = find(message.content().orElse(""));
        if (found.isEmpty()) {
            return message;
        }
        var calls = found.get().calls().stream().map(call -> ChatCompletionMessageToolCall.ofFunction(
                ChatCompletionMessageFunctionToolCall.builder().id("")
                        .function(ChatCompletionMessageFunctionToolCall.Function.builder()
                                .name(call.name()).arguments(call.arguments()).build())
                        .build())).toList();
        return message.toBuilder().content(found.get().rest()).toolCalls(calls).build();
    }

    /** The calls {@code text} holds, if any. */
    static Optional<Found> find(String text) {
        requireNonNull(text, "text");
        var tagged = blocks(TAGGED.matcher(text), text, false);
        if (tagged.isPresent()) {
            return tagged;
        }
        var fenced = blocks(FENCED.matcher(text), text, true);
        if (fenced.isPresent()) {
            return fenced;
        }
        var calls = calls(text, true);
        return calls.isEmpty() ? Optional.empty() : Optional.of(new Found(calls, ""));
    }

    /** The calls in the blocks {@code matcher} finds; a block that holds none stays in the text. */
    private static Optional<Found> blocks(Matcher matcher, String text, boolean argumentsRequired) {
        var calls = new ArrayList<Call>();
        var rest = new StringBuilder();
        int end = 0;
        while (matcher.find()) {
            var inBlock = calls(matcher.group(1), argumentsRequired);
            if (inBlock.isEmpty()) {
                continue;
            }
            calls.addAll(inBlock);
            rest.append(text, end, matcher.start());
            end = matcher.end();
        }
        if (calls.isEmpty()) {
            return Optional.empty();
        }
        rest.append(text, end, text.length());
        return Optional.of(new Found(List.copyOf(calls), rest.toString().strip()));
    }

    /** The calls one JSON text holds: an object, or an array of objects; none if it is anything else. */
    private static List<Call> calls(String json, boolean argumentsRequired) {
        JsonNode node;
        try {
            node = JSON.readTree(json.strip());
        } catch (Exception e) {
            return List.of();
        }
        if (node == null) {
            return List.of();
        }
        var calls = new ArrayList<Call>();
        for (var item : node.isArray() ? node : List.of(node)) {
            var call = call(item, argumentsRequired);
            if (call == null) {
                return List.of();
            }
            calls.add(call);
        }
        return calls;
    }

    /** {@code {"name", "arguments"}} ({@code parameters} also taken), possibly inside {@code {"function": ...}}. */
    private static @Nullable Call call(JsonNode node, boolean argumentsRequired) {
        if (node.path("function").isObject()) {
            node = node.get("function");
        }
        var name = node.path("name");
        var arguments = node.has("arguments") ? node.get("arguments") : node.get("parameters");
        if (!name.isTextual() || name.asText().isBlank() || (arguments == null && argumentsRequired)) {
            return null;
        }
        if (arguments == null || arguments.isNull()) {
            return new Call(name.asText(), "{}");
        }
        // Arguments given as a JSON string are kept as written: ValidToolCalls checks them.
        return new Call(name.asText(), arguments.isTextual() ? arguments.asText() : arguments.toString());
    }
}
