package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A long-running helper program of the sandbox (Xvfb, x11vnc, Jupyter Server, ...), logging to a
 * file of the scratch directory. Not a tool process: it is stopped by its owner, not by the model.
 */
public final class ServiceProcess {

    private static final Duration STOP_WAIT = Duration.ofSeconds(3);
    private static final File DEV_NULL = new File("/dev/null");

    private final String name;
    private final Process process;

    private ServiceProcess(String name, Process process) {
        this.name = name;
        this.process = process;
    }

    /**
     * Starts {@code command} with {@code environment} added to the daemon's, stderr (and stdout
     * unless {@code pipeStdout}) appended to {@code log}.
     */
    public static ServiceProcess start(String name, List<String> command, Map<String, String> environment,
                                       Path log, boolean pipeStdout) throws IOException {
        requireNonNull(name, "name");
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (!pipeStdout) {
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        builder.environment().putAll(environment);
        return new ServiceProcess(name, builder.start());
    }

    /** The executable {@code name} on the daemon's {@code PATH}, if there is one. */
    public static Optional<Path> find(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    public String name() {
        return name;
    }

    public Process process() {
        return process;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Kills it with everything it started and waits briefly for it to be gone. Never throws. */
    public void stop() {
        ProcessRegistry.killTree(process.toHandle());
        try {
            process.waitFor(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + (alive() ? ")" : ", exited " + process.exitValue() + ")");
    }
}
