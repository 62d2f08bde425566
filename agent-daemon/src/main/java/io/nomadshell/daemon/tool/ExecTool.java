package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ExecResult;
import io.nomadshell.proto.v1.OutputChunk;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command with {@code /bin/sh -c} inside the workspace, streaming stdout and stderr as they
 * are read and returning the exit code with the combined, capped output.
 */
final class ExecTool {

    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);
    static final int TIMEOUT_EXIT_CODE = 124;

    private static final int CHUNK_BYTES = 16 * 1024;
    /** How long to wait for the pipes to drain once the shell is gone. */
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(2);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);
    private static final File DEV_NULL = new File("/dev/null");

    private final ShellCommands shell;
    private final ProcessRegistry processes;

    ExecTool(ShellCommands shell, ProcessRegistry processes) {
        this.shell = requireNonNull(shell, "shell");
        this.processes = requireNonNull(processes, "processes");
    }

    ExecResult run(ExecAction action, CallEvents events)
            throws ToolException, WorkspaceException, IOException {
        ProcessBuilder builder = shell.builder(action.getCommand(), action.getCwd())
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));

        long started = System.nanoTime();
        OutputCapture output = new OutputCapture();
        Process process = processes.start(builder);
        try {
            Thread stdout = pump(process.getInputStream(), OutputChunk.Stream.STDOUT, output, events);
            Thread stderr = pump(process.getErrorStream(), OutputChunk.Stream.STDERR, output, events);
            boolean timedOut = !process.waitFor(timeoutOf(action).toMillis(), TimeUnit.MILLISECONDS);
            if (timedOut) {
                ProcessRegistry.killTree(process.toHandle());
                process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            boolean drained = stdout.join(DRAIN_GRACE) && stderr.join(DRAIN_GRACE);
            output.close();
            String text = output.render();
            if (!drained) {
                text += "\n[background processes still hold stdout/stderr; their later output is not shown]";
            }
            return ExecResult.newBuilder()
                    .setExitCode(timedOut ? TIMEOUT_EXIT_CODE : process.exitValue())
                    .setTimedOut(timedOut)
                    .setOutput(text)
                    .setTruncated(output.truncated())
                    .setDurationMs(Duration.ofNanos(System.nanoTime() - started).toMillis())
                    .build();
        } catch (InterruptedException e) {
            ProcessRegistry.killTree(process.toHandle());
            Thread.currentThread().interrupt();
            throw new ToolException("the command was interrupted");
        } finally {
            processes.forget(process);
        }
    }

    private static Duration timeoutOf(ExecAction action) {
        long ms = Integer.toUnsignedLong(action.getTimeoutMs());
        if (ms == 0) {
            return DEFAULT_TIMEOUT;
        }
        return Duration.ofMillis(Math.min(ms, MAX_TIMEOUT.toMillis()));
    }

    /**
     * Reads {@code in} on a platform thread (a blocking pipe read would pin a virtual thread's carrier,
     * and a few quiet commands then starve every other call), sending each chunk as an event and
     * into the capture.
     * After the capture closes it keeps draining without forwarding: a background process still
     * writing to the pipe would otherwise die of SIGPIPE.
     */
    private static Thread pump(InputStream in, OutputChunk.Stream stream, OutputCapture output,
                               CallEvents events) {
        return Thread.ofPlatform().daemon().name("exec-" + stream.name().toLowerCase()).start(() -> {
            byte[] buffer = new byte[CHUNK_BYTES];
            try (in) {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    if (output.append(buffer, n)) {
                        events.output(stream, buffer, n);
                    }
                }
            } catch (IOException e) {
                // The pipe went away with the process; what was read is already captured.
            }
        });
    }
}
