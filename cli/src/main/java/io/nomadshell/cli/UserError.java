package io.nomadshell.cli;

/** A mistake in how the command was called; its message is printed, never a stack trace. */
final class UserError extends RuntimeException {
    UserError(String message) {
        super(message, null, false, false);
    }
}
