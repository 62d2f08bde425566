package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Map;

/**
 * The context windows of known models, for servers that do not say theirs (OpenAI's). Names match
 * by prefix, longest first, so {@code gpt-4o-2024-08-06} is a {@code gpt-4o}; an unknown model gets
 * {@link #UNKNOWN_WINDOW}.
 */
public final class KnownWindows {
    /**
     * Assumed for a model the table does not know when its server does not say its window; a request
     * the server then finds too long is built again smaller (see the agent loop).
     */
    public static final int UNKNOWN_WINDOW = 32_768;
    private static final Map<String, Integer> WINDOWS = Map.ofEntries(
            Map.entry("gpt-4o", 128_000),
            Map.entry("gpt-4o-mini", 128_000),
            Map.entry("gpt-4.1", 1_047_576),
            Map.entry("gpt-4-turbo", 128_000),
            Map.entry("gpt-5", 400_000),
            Map.entry("o1", 200_000),
            Map.entry("o3", 200_000),
            Map.entry("o4-mini", 200_000),
            Map.entry("claude", 200_000),
            Map.entry("gemini", 1_048_576),
            Map.entry("deepseek", 128_000),
            Map.entry("qwen2.5-coder", 32_768),
            Map.entry("qwen3", 40_960),
            Map.entry("llama3.1", 128_000),
            Map.entry("mistral", 32_768));

    private KnownWindows() {}

    /** Whether the table knows the model (else its window is a guess). */
    public static boolean isKnown(String model) {
        var name = requireNonNull(model, "model").toLowerCase(Locale.ROOT);
        return WINDOWS.keySet().stream().anyMatch(name::startsWith);
    }

    /** The model's context window in tokens. */
    public static int windowOf(String model) {
        requireNonNull(model, "model");
        var name = model.toLowerCase(Locale.ROOT);
        String best = null;
        for (var known : WINDOWS.keySet()) {
            if (name.startsWith(known) && (best == null || known.length() > best.length())) {
                best = known;
            }
        }
        return best == null ? UNKNOWN_WINDOW : WINDOWS.get(best);
    }
}
