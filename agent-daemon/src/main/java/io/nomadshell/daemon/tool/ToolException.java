package io.nomadshell.daemon.tool;

/** A tool call that cannot be carried out, with a message written for the model. */
final class ToolException extends Exception {

    ToolException(String message) {
        super(message);
    }
}
