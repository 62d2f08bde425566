package io.nomadshell.e2e;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The real server as a user runs it, {@code java -jar nomad-shell.jar server}, in a JVM of its own,
 * so a test can kill it with SIGKILL (nothing runs on the way out) and start another on the same
 * data dir and Redis. It runs with {@code --exit-with-parent}: should the test's JVM die (kill -9 of
 * surefire), the server stops cleanly, its sandboxes with it, instead of running on.
 */
final class ServerProcess implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("serving on port (\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** What a clean stop may take before {@link #close()} kills the server. */
    static final Duration STOP_BOUND = Duration.ofSeconds(20);

    private final Process process;
    private final Path log;
    private final int port;

    private ServerProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** With {@code redisUrl} null, the server runs its own embedded Redis under the data dir. */
    static ServerProcess start(Path dataDir, @Nullable String redisUrl, String modelBaseUrl, Path log, String... extraArgs)
            throws IOException, InterruptedException {
        return start(List.of(), dataDir, redisUrl, modelBaseUrl, log, extraArgs);
    }

    /** With the server's JVM given {@code jvmOptions} (a heap cap, say). */
    static ServerProcess start(List<String> jvmOptions, Path dataDir, @Nullable String redisUrl, String modelBaseUrl,
            Path log, String... extraArgs) throws IOException, InterruptedException {
        return start(Map.of(), jvmOptions, dataDir, redisUrl, modelBaseUrl, log, extraArgs);
    }

    /** With {@code env} added to the server's environment (OTEL_* variables, say). */
    static ServerProcess start(Map<String, String> env, List<String> jvmOptions, Path dataDir, @Nullable String redisUrl,
            String modelBaseUrl, Path log, String... extraArgs) throws IOException, InterruptedException {
        var java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        var command = new ArrayList<String>();
        command.add(java);
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", cliJar().toString(), "server",
                "--port", "0", "--preview-port", "0", "--data-dir", dataDir.toString(),
                "--openai-base-url", modelBaseUrl, "--openai-api-key", "test", "--model", "scripted",
                "--daemon-jar", TestCluster.daemonJar().toString(), "--exit-with-parent"));
        if (redisUrl != null) {
            command.addAll(List.of("--redis-url", redisUrl));
        }
        command.addAll(List.of(extraArgs));
        var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(env);
        var process = builder.start();
        var deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            var matcher = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
            if (matcher.find()) {
                return new ServerProcess(process, log, Integer.parseInt(matcher.group(1)));
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
        process.destroyForcibly();
        throw new IllegalStateException("the server did not start in " + START_TIMEOUT + ":\n" + Files.readString(log));
    }

    static Path cliJar() {
        var property = requireNonNull(System.getProperty("nomadshell.cliJar"), "system property nomadshell.cliJar (set by the e2e pom)");
        var jar = Path.of(property).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the CLI jar is missing: " + jar + " (build cli first)");
        }
        return jar;
    }

    int port() {
        return port;
    }

    Rest rest() {
        return new Rest("http://127.0.0.1:" + port, null);
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook, no cleanup, as when the machine loses the process. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** The end of the server's log, for a failure's message. */
    String tail() {
        try {
            var text = log();
            return text.substring(Math.max(0, text.length() - 4_000));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, as Ctrl-C: true when the server's own close path ended it within {@link #STOP_BOUND}. */
    boolean stop() throws InterruptedException {
        process.destroy();
        return process.waitFor(STOP_BOUND.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive() && !stop()) {
            kill();
        }
    }
}
