package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the server said about the model it serves, where it says anything.
 *
 * @param window the context window in tokens (llama.cpp {@code n_ctx}, vLLM {@code max_model_len},
 *     Ollama's context length)
 * @param supportsTools whether the chat template can carry tools (llama.cpp {@code chat_template_caps})
 * @param acceptsImages whether the model takes image parts (llama.cpp {@code modalities.vision})
 * @param source where the facts came from, for the log ("llama.cpp /props")
 */
public record ServerFacts(OptionalInt window, Optional<Boolean> supportsTools, Optional<Boolean> acceptsImages,
        String source) {
    public static final ServerFacts NONE = new ServerFacts(OptionalInt.empty(), Optional.empty(), Optional.empty(), "nothing");

    public ServerFacts {
        requireNonNull(window, "window");
        requireNonNull(supportsTools, "supportsTools");
        requireNonNull(acceptsImages, "acceptsImages");
        requireNonNull(source, "source");
    }
}
