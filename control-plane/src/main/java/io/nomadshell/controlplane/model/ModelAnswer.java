package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import com.openai.models.chat.completions.ChatCompletionMessage;

/**
 * The model's answer, assembled from its stream.
 *
 * @param message what the assistant said and the tool calls it made
 * @param cut true when the answer stopped at the output cap ({@code finish_reason: length}): its
 *     tool calls may be cut in the middle and must not run
 * @param usage the tokens this attempt took
 */
public record ModelAnswer(ChatCompletionMessage message, boolean cut, TokenUsage usage) {
    public ModelAnswer {
        requireNonNull(message, "message");
        requireNonNull(usage, "usage");
    }
}
