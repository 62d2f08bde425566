package io.nomadshell.controlplane.context;

/** The prompt budget cannot hold even the parts every request needs; the message says so in words. */
public final class BudgetTooSmallException extends Exception {
    BudgetTooSmallException(String message) {
        super(message, null, false, false);
    }
}
