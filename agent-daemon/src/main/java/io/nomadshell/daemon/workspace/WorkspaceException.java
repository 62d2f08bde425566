package io.nomadshell.daemon.workspace;

/**
 * A path the workspace refuses, with a message written for the model that asked for it
 * (for example {@code path '../x' leaves the workspace}).
 */
public final class WorkspaceException extends Exception {

    WorkspaceException(String message) {
        super(message);
    }
}
