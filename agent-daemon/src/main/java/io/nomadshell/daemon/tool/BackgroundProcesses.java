package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ProcessAction;
import io.nomadshell.proto.v1.ProcessResult;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The processes started with {@code exec background=true} (dev servers, watchers), each known by
 * a handle ({@code p1}, {@code p2}, ...), and the {@code process} tool that reads their output,
 * writes to their stdin and kills them. They are tracked by the {@link ProcessRegistry}, so every
 * one of them dies when the job ends.
 */
final class BackgroundProcesses {

    static final int MAX_RUNNING = 32;
    static final Duration MAX_WAIT = Duration.ofSeconds(60);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final ShellCommands shell;
    private final ProcessRegistry registry;
    private final Map<String, BackgroundProcess> byHandle = new LinkedHashMap<>();
    private int started;

    BackgroundProcesses(ShellCommands shell, ProcessRegistry registry) {
        this.shell = requireNonNull(shell, "shell");
        this.registry = requireNonNull(registry, "registry");
    }

    /** Starts {@code action}'s command and returns its handle at once. */
    ProcessResult start(ExecAction action) throws ToolException, WorkspaceException, IOException {
        ProcessBuilder builder = shell.builder(action.getCommand(), action.getCwd());
        BackgroundProcess background;
        synchronized (this) {
            long running = byHandle.values().stream().filter(p -> p.process().isAlive()).count();
            if (running >= MAX_RUNNING) {
                throw new ToolException("already " + running + " background processes run; kill some first");
            }
            Process process = registry.start(builder);
            process.onExit().thenRun(() -> registry.forget(process));
            String handle = "p" + ++started;
            background = new BackgroundProcess(handle, action.getCommand(), process);
            byHandle.put(handle, background);
        }
        try {
            return background.describe(false, Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ToolException("interrupted");
        }
    }

    ProcessResult run(ProcessAction action) throws ToolException, InterruptedException {
        Duration wait = Duration.ofMillis(Math.min(Integer.toUnsignedLong(action.getWaitMs()), MAX_WAIT.toMillis()));
        return switch (action.getOp()) {
            case OUTPUT -> find(action.getHandle()).describe(true, wait);
            case INPUT -> {
                BackgroundProcess process = find(action.getHandle());
                process.write(action.getInput(), action.getCloseStdin());
                yield process.describe(true, wait);
            }
            case KILL -> {
                BackgroundProcess process = find(action.getHandle());
                process.kill(KILL_WAIT);
                yield process.describe(true, Duration.ZERO);
            }
            case LIST -> {
                List<ProcessResult> all = new ArrayList<>();
                for (BackgroundProcess process : snapshot()) {
                    all.add(process.describe(false, Duration.ZERO));
                }
                yield ProcessResult.newBuilder().addAllProcesses(all).build();
            }
            case OP_UNSPECIFIED, UNRECOGNIZED -> throw new ToolException("process: op must be output, input, kill or list");
        };
    }

    private synchronized BackgroundProcess find(String handle) throws ToolException {
        BackgroundProcess process = byHandle.get(handle);
        if (process == null) {
            throw new ToolException("no background process '" + handle + "'"
                    + (byHandle.isEmpty() ? "; none was started" : "; the handles are " + String.join(", ", byHandle.keySet())));
        }
        return process;
    }

    private synchronized List<BackgroundProcess> snapshot() {
        return List.copyOf(byHandle.values());
    }
}
