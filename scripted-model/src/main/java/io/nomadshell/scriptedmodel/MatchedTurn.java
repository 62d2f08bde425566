package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

/**
 * A reply given to any request whose system prompt contains {@code systemContains}, wherever the
 * conversation is: how a scenario answers side requests such as a client's "condense these
 * steps into a summary" call. It makes no tool calls, so it never moves the scripted conversation.
 *
 * <p>In the scenario file: {@code "matched_turns": [{"system_contains": "...", "content": "..."}]}.
 *
 * @param systemContains the substring that picks this reply
 * @param content        the assistant's answer
 */
public record MatchedTurn(String systemContains, String content) {

    /**
     * Checks the parts.
     *
     * @throws IllegalArgumentException if either part is blank
     */
    public MatchedTurn {
        requireNonNull(systemContains, "systemContains");
        requireNonNull(content, "content");
        if (systemContains.isBlank() || content.isBlank()) {
            throw new IllegalArgumentException("a matched turn needs system_contains and content");
        }
    }
}
