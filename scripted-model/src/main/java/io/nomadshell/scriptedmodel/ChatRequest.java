package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What the scripted model needs from a valid chat-completion request.
 *
 * @param model             the requested model, echoed in the reply
 * @param conversation      the text of the first user message: tells conversations apart
 * @param turn              the scenario turn the request asks for: one past the turn that wrote its
 *                          newest scripted tool call id, plus the assistant messages after it; or, in
 *                          a conversation without such ids, the number of assistant messages
 * @param systemText        the text of the system and developer messages, for matched turns
 * @param toolResults       the contents of the tool messages after the last assistant message
 * @param recentImages      how many image parts the messages after the last assistant message carry
 * @param offeredTools      the names of the tools the request offers, in its order
 * @param promptTexts       every text the prompt is made of, for counting its tokens
 */
record ChatRequest(
        String model,
        String conversation,
        int turn,
        String systemText,
        List<String> toolResults,
        int recentImages,
        List<String> offeredTools,
        List<String> promptTexts) {

    ChatRequest {
        requireNonNull(model, "model");
        requireNonNull(conversation, "conversation");
        requireNonNull(systemText, "systemText");
        toolResults = List.copyOf(toolResults);
        offeredTools = List.copyOf(offeredTools);
        promptTexts = List.copyOf(promptTexts);
    }
}
