package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One step of the conversation, the unit the prompt keeps or condenses whole: the assistant's
 * message, the result of each of its tool calls, and any messages that follow them (a nudge, a
 * screenshot). So a tool call is never shown without its result, nor a result without its call.
 */
final class Turn {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CUT = "\n[... %d characters not shown here ...]\n";

    record Rendered(List<ChatCompletionMessageParam> messages, int tokens) {}

    private final int step;
    private final ChatCompletionMessage assistant;
    private final Map<String, String> results = new LinkedHashMap<>();
    private final List<ChatCompletionMessageParam> extras = new ArrayList<>();
    private @Nullable Rendered rendered;
    private int renderedLimit;

    Turn(int step, ChatCompletionMessage assistant) {
        this.step = step;
        this.assistant = requireNonNull(assistant, "assistant");
    }

    int step() {
        return step;
    }

    /** The ids of the function calls still waiting for their result. */
    List<String> unanswered() {
        var open = new ArrayList<String>();
        for (var call : calls()) {
            if (!results.containsKey(call.id())) {
                open.add(call.id());
            }
        }
        return open;
    }

    List<ChatCompletionMessageFunctionToolCall> calls() {
        var calls = new ArrayList<ChatCompletionMessageFunctionToolCall>();
        assistant.toolCalls().ifPresent(list -> list.forEach(call -> call.function().ifPresent(calls::add)));
        return calls;
    }

    void answer(String toolCallId, String text) {
        results.put(toolCallId, text);
        rendered = null;
    }

    void follow(ChatCompletionMessageParam message) {
        extras.add(message);
        rendered = null;
    }

    /** Keeps only the newest images of the conversation, {@code seen} newer ones counted already; see {@link Images}. */
    int keepNewestImages(int seen) {
        int after = Images.keepNewest(extras, seen);
        if (after > Images.KEPT) {
            rendered = null;
        }
        return after;
    }

    /** The tokens of the messages that follow the results (not shortened when the turn is). */
    int extraTokens() {
        return MessageTokens.count(extras);
    }

    /** Shows the turn's images as their text descriptions (the model endpoint does not take images). */
    void dropImages() {
        if (Images.withoutImages(extras)) {
            rendered = null;
        }
    }

    /**
     * The turn as messages, with the assistant's text, each call's arguments and each result cut to
     * at most {@code partLimit} tokens (the whole stays in the transcript and in recall).
     */
    Rendered render(int partLimit) {
        if (rendered != null && renderedLimit == partLimit) {
            return rendered;
        }
        var builder = assistant.toBuilder();
        assistant.content().ifPresent(text -> builder.content(Tokens.shorten(text, partLimit, CUT)));
        assistant.toolCalls().ifPresent(calls -> builder.toolCalls(calls.stream()
                .map(call -> shortenArguments(call, partLimit)).toList()));
        var messages = new ArrayList<ChatCompletionMessageParam>();
        messages.add(ChatCompletionMessageParam.ofAssistant(builder.build().toParam()));
        for (var call : calls()) {
            var text = results.getOrDefault(call.id(), "");
            messages.add(ChatCompletionMessageParam.ofTool(ChatCompletionToolMessageParam.builder()
                    .toolCallId(call.id()).content(Tokens.shorten(text, partLimit, CUT)).build()));
        }
        messages.addAll(extras);
        rendered = new Rendered(List.copyOf(messages), MessageTokens.count(messages));
        renderedLimit = partLimit;
        return rendered;
    }

    /** Long arguments (a whole file written) are replaced by valid JSON that says so and shows their start. */
    private static ChatCompletionMessageToolCall shortenArguments(ChatCompletionMessageToolCall call, int partLimit) {
        var function = call.function().orElse(null);
        if (function == null || Tokens.count(function.function().arguments()) <= partLimit) {
            return call;
        }
        var arguments = function.function().arguments();
        var note = new LinkedHashMap<String, String>();
        note.put("note", "arguments of " + arguments.length() + " characters, shortened here; the transcript and recall have them whole");
        note.put("start", Tokens.head(arguments, Math.max(16, partLimit - 60)));
        String shortened;
        try {
            shortened = JSON.writeValueAsString(note);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return ChatCompletionMessageToolCall.ofFunction(function.toBuilder()
                .function(function.function().toBuilder().arguments(shortened).build())
                .build());
    }
}
