package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

/** A model call that failed for good (after the retries that could help); the message is for a person. */
public final class ModelException extends Exception {
    /** What went wrong, so the caller can act on it. */
    public enum Kind {
        /** Nothing listened, the connection broke, or the server never answered: the message says which. */
        UNREACHABLE,
        /** The stream sent no token for the idle timeout. */
        STALLED,
        /** The request was longer than the server's context window. */
        CONTEXT_TOO_LONG,
        /** The server cannot take image parts (a text-only model). */
        IMAGES_REFUSED,
        /** The server or model cannot take tools. */
        TOOLS_UNSUPPORTED,
        /** Any other answer that was not a completion: the status and the server's words. */
        REFUSED
    }

    private final Kind kind;

    public ModelException(Kind kind, String message) {
        super(requireNonNull(message, "message"), null, false, false);
        this.kind = requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
