package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the server answers to one request, whether sent whole or streamed.
 *
 * @param turn             the scenario turn played, which names the tool call ids
 * @param content          the assistant's text, or null for none
 * @param toolCalls        the tool calls, possibly cut short
 * @param finishReason     {@code stop}, {@code tool_calls} or {@code length}
 * @param promptTokens     the request's size in the server's own count
 * @param completionTokens the answer's size in the same count
 * @param tokenDelay       the pause between streamed deltas
 * @param stallAfter       when a stream stops sending, or null for never
 */
record Answer(
        int turn,
        @Nullable String content,
        List<ToolCall> toolCalls,
        String finishReason,
        int promptTokens,
        int completionTokens,
        Duration tokenDelay,
        @Nullable Duration stallAfter) {

    Answer {
        requireNonNull(finishReason, "finishReason");
        requireNonNull(tokenDelay, "tokenDelay");
        toolCalls = List.copyOf(toolCalls);
    }

    /** The id of the {@code index}th tool call: {@code call_<turn>_<index>}, which tells the turn back. */
    String toolCallId(int index) {
        return "call_" + turn + "_" + index;
    }
}
