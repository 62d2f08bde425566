package io.nomadshell.daemon.tool;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a short helper command (xdotool, scrot, ...) to its end and returns what it printed. */
public final class CommandRunner {

    /** How a helper command ended. */
    public record Outcome(int exitCode, byte[] stdout, String stderr) {
        public String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    private CommandRunner() {}

    /**
     * Runs {@code command} with {@code environment} added, for at most {@code timeout}.
     *
     * @throws ToolException if it cannot start or runs too long (it is then killed)
     */
    public static Outcome run(List<String> command, Map<String, String> environment, Duration timeout)
            throws ToolException, InterruptedException {
        return run(command, environment, true, timeout);
    }

    /**
     * Runs {@code command} with {@code environment} as its whole environment (nothing of the daemon's
     * own), for at most {@code timeout}.
     *
     * @throws ToolException if it cannot start or runs too long (it is then killed)
     */
    public static Outcome runWithOnly(List<String> command, Map<String, String> environment, Duration timeout)
            throws ToolException, InterruptedException {
        return run(command, environment, false, timeout);
    }

    private static Outcome run(List<String> command, Map<String, String> environment, boolean inherit,
                               Duration timeout) throws ToolException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (!inherit) {
            builder.environment().clear();
        }
        builder.environment().putAll(environment);
        Process process;
        try {
            process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new ToolException("cannot run " + command.getFirst() + ": " + e.getMessage());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread stdout = drain(process.getInputStream(), out);
        Thread stderr = drain(process.getErrorStream(), err);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ToolException(command.getFirst() + " did not finish within " + timeout.toSeconds() + " s");
            }
            stdout.join(Duration.ofSeconds(2));
            stderr.join(Duration.ofSeconds(2));
        } finally {
            if (process.isAlive()) {
                ProcessRegistry.killTree(process.toHandle());
            }
        }
        synchronized (out) {
            synchronized (err) {
                return new Outcome(process.exitValue(), out.toByteArray(), err.toString(StandardCharsets.UTF_8).strip());
            }
        }
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream sink) {
        // A platform thread: a blocking pipe read would pin a virtual thread's carrier.
        return Thread.ofPlatform().daemon().name("command-output").start(() -> {
            try (in) {
                byte[] buffer = new byte[8192];
                int n;
                while ((n = in.read(buffer)) != -1) {
                    synchronized (sink) {
                        sink.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                // The process is gone; what was read is kept.
            }
        });
    }
}
