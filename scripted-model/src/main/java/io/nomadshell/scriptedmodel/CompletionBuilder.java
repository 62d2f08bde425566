package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Writes a turn as a standard {@code chat.completion} object, with usage in real tokens. */
final class CompletionBuilder {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Clock clock;

    CompletionBuilder(Clock clock) {
        this.clock = clock;
    }

    ObjectNode completion(ChatRequest request, int turnIndex, Turn turn) {
        ObjectNode message = JSON.objectNode().put("role", "assistant").put("content", turn.content());
        message.putNull("refusal");
        List<String> completionTexts = new ArrayList<>();
        if (turn.content() != null) {
            completionTexts.add(turn.content());
        }
        if (!turn.toolCalls().isEmpty()) {
            ArrayNode calls = message.putArray("tool_calls");
            for (int i = 0; i < turn.toolCalls().size(); i++) {
                ToolCall call = turn.toolCalls().get(i);
                ObjectNode entry = calls.addObject()
                        .put("id", "call_" + turnIndex + "_" + i)
                        .put("type", "function");
                entry.putObject("function").put("name", call.name()).put("arguments", call.arguments());
                completionTexts.add(call.arguments());
            }
        }

        ObjectNode completion = JSON.objectNode()
                .put("id", "chatcmpl-" + UUID.randomUUID().toString().replace("-", ""))
                .put("object", "chat.completion")
                .put("created", clock.instant().getEpochSecond())
                .put("model", request.model());
        ObjectNode choice = completion.putArray("choices").addObject().put("index", 0);
        choice.set("message", message);
        choice.putNull("logprobs");
        choice.put("finish_reason", turn.toolCalls().isEmpty() ? "stop" : "tool_calls");

        int promptTokens = TokenCounter.count(request.promptTexts());
        int completionTokens = TokenCounter.count(completionTexts);
        completion.putObject("usage")
                .put("prompt_tokens", promptTokens)
                .put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens);
        return completion;
    }
}
