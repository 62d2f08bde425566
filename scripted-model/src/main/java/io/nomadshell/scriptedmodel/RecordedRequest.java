package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import org.jspecify.annotations.Nullable;

/**
 * One chat-completion request the server received and what became of it, for tests: whether a
 * client sends its output cap and streams, and whether its own token counts match the server's.
 *
 * @param body                the request body as received (the server's own node: do not change it)
 * @param maxTokens           {@code max_tokens} as sent, or null if absent or not a whole number
 * @param maxCompletionTokens {@code max_completion_tokens} as sent, or null likewise
 * @param stream              whether {@code "stream": true} was sent
 * @param includeUsage        whether {@code "stream_options": {"include_usage": true}} was sent
 * @param status              the HTTP status answered: 200 once an answer began (a stream in
 *                            flight or stalled included), the error's status if refused, 0 while
 *                            nothing was answered yet (or never will be, for a stalled plain answer)
 * @param promptTokens        the prompt's tokens in the server's count, null if refused before counting
 * @param completionTokens    the tokens of the answer: all of it once finished, the part sent once
 *                            a stream stalled, 0 while a stream is in flight; null if no answer began
 * @param finishReason        the {@code finish_reason} answered, null until the answer is complete
 */
public record RecordedRequest(
        JsonNode body,
        @Nullable Integer maxTokens,
        @Nullable Integer maxCompletionTokens,
        boolean stream,
        boolean includeUsage,
        int status,
        @Nullable Integer promptTokens,
        @Nullable Integer completionTokens,
        @Nullable String finishReason) {

    /** Checks the parts. */
    public RecordedRequest {
        requireNonNull(body, "body");
    }

    /** Whether the answer was sent whole: a finish reason and usage reached the client (if asked for). */
    public boolean finished() {
        return finishReason != null;
    }
}
