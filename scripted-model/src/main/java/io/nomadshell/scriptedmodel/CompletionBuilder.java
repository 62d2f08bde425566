package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.UUID;

/** Writes an {@link Answer} as a standard {@code chat.completion} object, with usage in real tokens. */
final class CompletionBuilder {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Clock clock;

    CompletionBuilder(Clock clock) {
        this.clock = clock;
    }

    ObjectNode completion(ChatRequest request, Answer answer) {
        ObjectNode message = JSON.objectNode().put("role", "assistant").put("content", answer.content());
        message.putNull("refusal");
        if (!answer.toolCalls().isEmpty()) {
            ArrayNode calls = message.putArray("tool_calls");
            for (int i = 0; i < answer.toolCalls().size(); i++) {
                ToolCall call = answer.toolCalls().get(i);
                ObjectNode entry = calls.addObject().put("id", answer.toolCallId(i)).put("type", "function");
                entry.putObject("function").put("name", call.name()).put("arguments", call.arguments());
            }
        }
        ObjectNode completion = header(request, "chat.completion");
        ObjectNode choice = completion.putArray("choices").addObject().put("index", 0);
        choice.set("message", message);
        choice.putNull("logprobs");
        choice.put("finish_reason", answer.finishReason());
        completion.set("usage", usage(answer));
        return completion;
    }

    /** The fields every completion and chunk starts with, under a fresh id. */
    ObjectNode header(ChatRequest request, String object) {
        return JSON.objectNode()
                .put("id", "chatcmpl-" + UUID.randomUUID().toString().replace("-", ""))
                .put("object", object)
                .put("created", clock.instant().getEpochSecond())
                .put("model", request.model());
    }

    static ObjectNode usage(Answer answer) {
        return JSON.objectNode()
                .put("prompt_tokens", answer.promptTokens())
                .put("completion_tokens", answer.completionTokens())
                .put("total_tokens", answer.promptTokens() + answer.completionTokens());
    }
}
