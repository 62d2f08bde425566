package io.nomadshell.daemon.tool;

/** A tool call that cannot be carried out, with a message written for the model. */
public final class ToolException extends Exception {

    /** A failure described by {@code message}, in words for the model. */
    public ToolException(String message) {
        super(message);
    }
}
