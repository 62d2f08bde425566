package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import java.util.List;

/**
 * One call to the model.
 *
 * @param messages the conversation as sent
 * @param tools the tools offered; none for a plain answer (a summary)
 * @param promptTokens the request's size by this side's count (calibrated): what a failed attempt
 *     is counted as when the server never said, and what bounds the answer's cap
 */
public record ModelRequest(List<ChatCompletionMessageParam> messages, List<ChatCompletionTool> tools, int promptTokens) {
    public ModelRequest {
        messages = List.copyOf(requireNonNull(messages, "messages"));
        tools = List.copyOf(requireNonNull(tools, "tools"));
        if (promptTokens < 0) {
            throw new IllegalArgumentException("promptTokens must not be negative");
        }
    }
}
