package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.OptionalInt;

/**
 * What the scripted model needs from a valid chat-completion request.
 *
 * @param model             the requested model, echoed in the reply
 * @param conversation      the text of the first user message: tells conversations apart
 * @param turn              the scenario turn the request asks for: one past the turn that wrote its
 *                          newest scripted tool call id, plus the assistant messages after it; or, in
 *                          a conversation without such ids, the number of assistant messages
 * @param systemText        the text of the system and developer messages, for matched turns
 * @param toolResults       the contents of the tool and user messages after the last assistant message
 * @param recentImages      how many image parts the messages after the last assistant message carry
 * @param images            how many image parts all the messages carry
 * @param offeredTools      the names of the tools the request offers, in its order
 * @param toolsText         the tool definitions as sent, empty when none: part of the prompt only
 *                          where the chat template carries tools
 * @param promptTexts       every other text the prompt is made of, for counting its tokens
 * @param outputCap         the smaller of {@code max_tokens} and {@code max_completion_tokens}, if sent
 * @param stream            whether the answer is to be streamed ({@code "stream": true})
 * @param includeUsage      whether a streamed answer ends with a usage chunk
 *                          ({@code "stream_options": {"include_usage": true}})
 */
record ChatRequest(
        String model,
        String conversation,
        int turn,
        String systemText,
        List<String> toolResults,
        int recentImages,
        int images,
        List<String> offeredTools,
        String toolsText,
        List<String> promptTexts,
        OptionalInt outputCap,
        boolean stream,
        boolean includeUsage) {

    ChatRequest {
        requireNonNull(model, "model");
        requireNonNull(conversation, "conversation");
        requireNonNull(systemText, "systemText");
        requireNonNull(toolsText, "toolsText");
        requireNonNull(outputCap, "outputCap");
        toolResults = List.copyOf(toolResults);
        offeredTools = List.copyOf(offeredTools);
        promptTexts = List.copyOf(promptTexts);
    }
}
