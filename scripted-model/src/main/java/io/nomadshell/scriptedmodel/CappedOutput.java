package io.nomadshell.scriptedmodel;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An answer cut to an output cap, as a model stops generating when it reaches {@code max_tokens}
 * or the end of its window: the text first, then each tool call's arguments, in the order they
 * are generated; the part that crosses the cap is cut there and what follows is dropped.
 *
 * @param content   the text kept, or null if there was none
 * @param toolCalls the calls kept, the last one possibly with cut arguments
 * @param tokens    the completion tokens kept (o200k_base, as the cap)
 * @param cut       whether anything was cut
 */
record CappedOutput(@Nullable String content, List<ToolCall> toolCalls, int tokens, boolean cut) {

    static CappedOutput of(@Nullable String content, List<ToolCall> toolCalls, int cap) {
        int left = cap;
        if (content != null) {
            int tokens = TokenCounter.count(content);
            if (tokens > left) {
                return new CappedOutput(TokenCounter.prefix(content, left), List.of(), cap, true);
            }
            left -= tokens;
        }
        List<ToolCall> kept = new ArrayList<>();
        for (ToolCall call : toolCalls) {
            int tokens = TokenCounter.count(call.arguments());
            if (tokens > left) {
                if (left > 0) {
                    kept.add(new ToolCall(call.name(), TokenCounter.prefix(call.arguments(), left)));
                }
                return new CappedOutput(content, kept, cap, true);
            }
            kept.add(call);
            left -= tokens;
        }
        return new CappedOutput(content, kept, cap - left, false);
    }
}
