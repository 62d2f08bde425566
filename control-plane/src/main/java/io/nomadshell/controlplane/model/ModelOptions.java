package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Which OpenAI-compatible endpoint and model the loop talks to, and how each call is bounded.
 *
 * @param baseUrl e.g. {@code http://localhost:11434/v1}; null means the OpenAI API
 * @param apiKey sent as a bearer token; never logged
 * @param model the model name the endpoint knows
 * @param maxRetries retries (with backoff) of a call that failed in a way a retry can mend
 * @param maxOutputTokens the most tokens one answer may take (never more than the window has left)
 * @param idleTimeout how long a streamed answer may go without a token before the call is ended
 */
public record ModelOptions(@Nullable String baseUrl, String apiKey, String model, int maxRetries,
        int maxOutputTokens, Duration idleTimeout) {
    public static final String DEFAULT_MODEL = "gpt-4o";
    public static final int DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public ModelOptions {
        requireNonNull(apiKey, "apiKey");
        requireNonNull(model, "model");
        requireNonNull(idleTimeout, "idleTimeout");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative");
        }
        if (maxOutputTokens < 16) {
            throw new IllegalArgumentException("the output cap must be at least 16 tokens, not " + maxOutputTokens);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the model idle timeout must be positive, not " + idleTimeout);
        }
    }

    /** With the default output cap and idle timeout. */
    public ModelOptions(@Nullable String baseUrl, String apiKey, String model, int maxRetries) {
        this(baseUrl, apiKey, model, maxRetries, DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_IDLE_TIMEOUT);
    }

    /** Whether the endpoint is OpenAI's own (no base URL, or its host). */
    public boolean isOpenAi() {
        if (baseUrl == null) {
            return true;
        }
        var host = URI.create(baseUrl).getHost();
        return host != null && host.endsWith("api.openai.com");
    }

    @Override
    public String toString() {
        return "ModelOptions[baseUrl=" + baseUrl + ", model=" + model + ", maxRetries=" + maxRetries
                + ", maxOutputTokens=" + maxOutputTokens + ", idleTimeout=" + idleTimeout + "]";
    }
}
