package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/** Builds a {@link ScriptedModelServer}; only the scenario is required. */
public final class ScriptedModelServerBuilder {

    private @Nullable Scenario scenario;
    private String host = "127.0.0.1";
    private int port;
    private @Nullable String apiKey;
    private int contextWindow = ModelTraits.DEFAULT_CONTEXT_WINDOW;
    private boolean toolsSupported = true;
    private boolean acceptsImages = true;
    private boolean toolsRejected;
    private double tokenScale = 1.0;

    ScriptedModelServerBuilder() {
    }

    /** The scenario to play back. Required. */
    public ScriptedModelServerBuilder scenario(Scenario scenario) {
        this.scenario = requireNonNull(scenario, "scenario");
        return this;
    }

    /** The address to bind; {@code 127.0.0.1} unless set, so nothing off the machine can reach it. */
    public ScriptedModelServerBuilder host(String host) {
        requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host is blank");
        }
        this.host = host;
        return this;
    }

    /** The port to bind; 0 (the default) picks a free one, see {@link ScriptedModelServer#port()}. */
    public ScriptedModelServerBuilder port(int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0 to 65535, not " + port);
        }
        this.port = port;
        return this;
    }

    /** The key requests must present as {@code Authorization: Bearer <key>}; none is required unless set. */
    public ScriptedModelServerBuilder apiKey(String apiKey) {
        requireNonNull(apiKey, "apiKey");
        if (apiKey.isEmpty()) {
            throw new IllegalArgumentException("apiKey is empty");
        }
        this.apiKey = apiKey;
        return this;
    }

    /**
     * The model's context window in tokens (server count), {@value ModelTraits#DEFAULT_CONTEXT_WINDOW}
     * unless set. Told by {@code GET /props} ({@code default_generation_settings.n_ctx}) and
     * {@code GET /v1/models} ({@code max_model_len}, {@code meta.n_ctx}); a prompt of this many
     * tokens or more is refused with llama-server's 400 {@code exceed_context_size_error}, and an
     * answer that would overflow it is cut with {@code finish_reason: "length"}.
     *
     * @throws IllegalArgumentException if below {@value ModelTraits#MIN_CONTEXT_WINDOW}
     */
    public ScriptedModelServerBuilder contextWindow(int tokens) {
        if (tokens < ModelTraits.MIN_CONTEXT_WINDOW) {
            throw new IllegalArgumentException("the context window must be at least "
                    + ModelTraits.MIN_CONTEXT_WINDOW + " tokens, not " + tokens);
        }
        this.contextWindow = tokens;
        return this;
    }

    /**
     * Whether the chat template carries tools (true unless set). When false, as llama-server with a
     * plain ChatML template: {@code GET /props} says {@code chat_template_caps.supports_tools: false},
     * the tools a request offers are silently ignored (not counted in the prompt, never checked),
     * and every turn answers its content only, never tool calls.
     */
    public ScriptedModelServerBuilder toolsSupported(boolean supported) {
        this.toolsSupported = supported;
        return this;
    }

    /**
     * Whether image parts are taken (true unless set). When false, as llama-server without a vision
     * projector: {@code GET /props} says {@code modalities.vision: false}, and any request holding an
     * {@code image_url} part is refused with 500 "image input is not supported - hint: ...".
     */
    public ScriptedModelServerBuilder acceptsImages(boolean accepts) {
        this.acceptsImages = accepts;
        return this;
    }

    /**
     * Whether a request offering tools is refused (false unless set). When true, as Ollama for a model
     * without tool support: 400 {@code invalid_request_error} "registry.ollama.ai/library/MODEL does not
     * support tools".
     */
    public ScriptedModelServerBuilder toolsRejected(boolean rejected) {
        this.toolsRejected = rejected;
        return this;
    }

    /**
     * How many tokens this server counts for what o200k_base counts as one (1.0 unless set): 1.2
     * plays a model whose tokenizer counts a fifth more, as Gemma's does, so a client that budgets
     * in o200k must calibrate against the {@code usage} the server answers. The scale applies to
     * every count the server makes: {@code usage}, the context window and the output cap.
     *
     * @throws IllegalArgumentException if not from 0.5 to 4
     */
    public ScriptedModelServerBuilder tokenScale(double scale) {
        if (!(scale >= ModelTraits.MIN_TOKEN_SCALE && scale <= ModelTraits.MAX_TOKEN_SCALE)) {
            throw new IllegalArgumentException("the token scale must be from " + ModelTraits.MIN_TOKEN_SCALE
                    + " to " + ModelTraits.MAX_TOKEN_SCALE + ", not " + scale);
        }
        this.tokenScale = scale;
        return this;
    }

    /**
     * A server that is not yet listening; call {@link ScriptedModelServer#start()}.
     *
     * @throws IllegalStateException if no scenario was set
     */
    public ScriptedModelServer build() {
        if (scenario == null) {
            throw new IllegalStateException("a scenario is required");
        }
        return new ScriptedModelServer(scenario, host, port, apiKey,
                new ModelTraits(contextWindow, toolsSupported, acceptsImages, toolsRejected, tokenScale));
    }
}
