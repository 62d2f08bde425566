package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What the scripted model needs from a valid chat-completion request.
 *
 * @param model             the requested model, echoed in the reply
 * @param conversation      the text of the first user message: tells conversations apart
 * @param assistantMessages how many assistant messages the request holds: the turn to play
 * @param toolResults       the contents of the tool messages after the last assistant message
 * @param recentImages      how many image parts the messages after the last assistant message carry
 * @param offeredTools      the names of the tools the request offers, in its order
 * @param promptTexts       every text the prompt is made of, for counting its tokens
 */
record ChatRequest(
        String model,
        String conversation,
        int assistantMessages,
        List<String> toolResults,
        int recentImages,
        List<String> offeredTools,
        List<String> promptTexts) {

    ChatRequest {
        requireNonNull(model, "model");
        requireNonNull(conversation, "conversation");
        toolResults = List.copyOf(toolResults);
        offeredTools = List.copyOf(offeredTools);
        promptTexts = List.copyOf(promptTexts);
    }
}
