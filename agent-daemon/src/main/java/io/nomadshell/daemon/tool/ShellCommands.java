package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Prepares {@code /bin/sh -c} commands the way every shell tool runs them: in a directory of the
 * workspace, with {@code HOME} set and the desktop's {@code DISPLAY} once the desktop runs, so
 * a GUI program started from the shell appears on the screen the computer tool sees.
 */
final class ShellCommands {

    private final Workspace workspace;
    private final Supplier<Map<String, String>> extraEnvironment;

    ShellCommands(Workspace workspace, Supplier<Map<String, String>> extraEnvironment) {
        this.workspace = requireNonNull(workspace, "workspace");
        this.extraEnvironment = requireNonNull(extraEnvironment, "extraEnvironment");
    }

    /** A builder for {@code command} run in {@code cwd} (relative to the workspace; empty for the root). */
    ProcessBuilder builder(String command, String cwd) throws ToolException, WorkspaceException {
        if (command.isBlank()) {
            throw new ToolException("empty command");
        }
        Path directory = workspace.resolve(cwd);
        if (!Files.isDirectory(directory)) {
            throw new ToolException((Files.exists(directory) ? "not a directory: " : "no such directory: ") + cwd);
        }
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command).directory(directory.toFile());
        Map<String, String> env = builder.environment();
        if (env.getOrDefault("HOME", "").isEmpty()) {
            env.put("HOME", workspace.root().toString());
        }
        env.putAll(extraEnvironment.get());
        return builder;
    }
}
