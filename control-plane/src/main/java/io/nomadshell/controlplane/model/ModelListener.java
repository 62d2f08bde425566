package io.nomadshell.controlplane.model;

/** What a call reports while it runs. */
public interface ModelListener {
    ModelListener NONE = new ModelListener() {
        @Override
        public void onText(String delta) {}

        @Override
        public void onAttempt(TokenUsage usage) {}
    };

    /** A piece of the answer's text, as the server generated it. */
    void onText(String delta);

    /** The tokens one attempt took, failed ones too (called once per attempt, before the next). */
    void onAttempt(TokenUsage usage);
}
