package io.nomadshell.controlplane.model;

/**
 * The tokens one attempt of a call took.
 *
 * @param reported true when the server said so ({@code usage}); false when counted on this side
 *     because the attempt failed before the server could
 */
public record TokenUsage(long promptTokens, long completionTokens, boolean reported) {
    public TokenUsage {
        if (promptTokens < 0 || completionTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative");
        }
    }
}
