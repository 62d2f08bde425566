package io.nomadshell.scriptedmodel;

/**
 * How the served model behaves apart from its script: the ways real OpenAI-compatible servers
 * differ, each set on the {@link ScriptedModelServerBuilder}.
 *
 * @param contextWindow  tokens of prompt plus answer the model can hold; a longer prompt is
 *                       refused as llama-server refuses it, and an answer stops when the window
 *                       is full
 * @param toolsSupported whether the chat template carries tools; if not, tools in requests are
 *                       ignored as llama-server does with a template that has no place for them
 * @param acceptsImages  whether image parts are taken; if not, they are refused as llama-server
 *                       refuses them without a vision projector
 * @param toolsRejected  whether a request offering tools is refused as Ollama refuses it for a
 *                       model without tool support
 * @param tokenScale     the server's token count over o200k_base's for the same text, as another
 *                       tokenizer counts more (Gemma's about 1.2) or fewer tokens: applies to usage,
 *                       the window and the output cap
 */
record ModelTraits(int contextWindow, boolean toolsSupported, boolean acceptsImages, boolean toolsRejected,
                   double tokenScale) {

    /** The window when none is set, as the control plane assumed for an unknown model. */
    static final int DEFAULT_CONTEXT_WINDOW = 32_768;

    /** The smallest window worth serving: a few messages and their answer. */
    static final int MIN_CONTEXT_WINDOW = 256;

    /** The range of token scales taken: real tokenizers differ by less. */
    static final double MIN_TOKEN_SCALE = 0.5;
    static final double MAX_TOKEN_SCALE = 4.0;

    /** Absorbs the error of a scale like 1.2 that binary cannot hold, so 10 tokens scale to 12, not 13. */
    private static final double ROUNDING_SLACK = 1e-9;

    ModelTraits {
        if (contextWindow < MIN_CONTEXT_WINDOW) {
            throw new IllegalArgumentException("the context window must be at least " + MIN_CONTEXT_WINDOW
                    + " tokens, not " + contextWindow);
        }
        if (!(tokenScale >= MIN_TOKEN_SCALE && tokenScale <= MAX_TOKEN_SCALE)) {
            throw new IllegalArgumentException("the token scale must be from " + MIN_TOKEN_SCALE + " to "
                    + MAX_TOKEN_SCALE + ", not " + tokenScale);
        }
    }

    /** This server's count of a text that o200k_base counts {@code o200kTokens}, rounded up. */
    int serverTokens(int o200kTokens) {
        return (int) Math.ceil(o200kTokens * tokenScale - ROUNDING_SLACK);
    }

    /** The o200k_base tokens of text that this server counts as {@code serverTokens} at most. */
    int o200kTokens(int serverTokens) {
        return (int) Math.floor(serverTokens / tokenScale + ROUNDING_SLACK);
    }
}
