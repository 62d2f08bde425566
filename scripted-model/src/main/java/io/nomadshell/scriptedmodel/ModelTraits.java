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
 */
record ModelTraits(int contextWindow, boolean toolsSupported, boolean acceptsImages, boolean toolsRejected) {

    /** The window when none is set, as the control plane assumed for an unknown model. */
    static final int DEFAULT_CONTEXT_WINDOW = 32_768;

    /** The smallest window worth serving: a few messages and their answer. */
    static final int MIN_CONTEXT_WINDOW = 256;

    ModelTraits {
        if (contextWindow < MIN_CONTEXT_WINDOW) {
            throw new IllegalArgumentException("the context window must be at least " + MIN_CONTEXT_WINDOW
                    + " tokens, not " + contextWindow);
        }
    }
}
