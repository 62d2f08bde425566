package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * Which OpenAI-compatible endpoint and model the loop talks to.
 *
 * @param baseUrl e.g. {@code http://localhost:11434/v1}; null means the OpenAI API
 * @param apiKey sent as a bearer token; never logged
 * @param model the model name the endpoint knows
 * @param maxRetries retries (with backoff) of a failed model call before the job fails
 */
public record ModelOptions(@Nullable String baseUrl, String apiKey, String model, int maxRetries) {
    public static final String DEFAULT_MODEL = "gpt-4o";

    public ModelOptions {
        requireNonNull(apiKey, "apiKey");
        requireNonNull(model, "model");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative");
        }
    }

    @Override
    public String toString() {
        return "ModelOptions[baseUrl=" + baseUrl + ", model=" + model + ", maxRetries=" + maxRetries + "]";
    }
}
