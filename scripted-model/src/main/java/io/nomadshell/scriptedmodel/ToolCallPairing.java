package io.nomadshell.scriptedmodel;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The rule the real API enforces on a conversation: every tool call of an assistant message is
 * answered by a tool message, right after it and before any other message, and every tool
 * message answers such a call.
 *
 * <p>Fed the messages in order; {@link #finish()} after the last.
 */
final class ToolCallPairing {

    /** Tool call ids of the latest assistant message still waiting for their answer. */
    private final Set<String> open = new LinkedHashSet<>();

    /** An assistant message with these tool call ids (none for a plain answer). */
    void assistant(int index, Set<String> toolCallIds) {
        requireAllAnswered(index);
        open.addAll(toolCallIds);
    }

    /** A tool message answering {@code toolCallId}. */
    void tool(int index, String toolCallId) {
        if (!open.remove(toolCallId)) {
            throw ApiException.invalidRequest("Invalid parameter: messages with role 'tool' must be a response"
                    + " to a preceding message with 'tool_calls'. messages[" + index + "].tool_call_id '"
                    + toolCallId + "' answers no open tool call of the preceding assistant message.");
        }
    }

    /** Any other message. */
    void other(int index) {
        requireAllAnswered(index);
    }

    /** The end of the messages. */
    void finish() {
        requireAllAnswered(-1);
    }

    private void requireAllAnswered(int index) {
        if (!open.isEmpty()) {
            throw ApiException.invalidRequest("An assistant message with 'tool_calls' must be followed by tool"
                    + " messages responding to each 'tool_call_id'. The following tool_call_ids did not have"
                    + " response messages" + (index < 0 ? "" : " before messages[" + index + "]") + ": "
                    + String.join(", ", open));
        }
    }
}
