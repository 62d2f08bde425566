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
 * A real Ollama server on loopback, built and cached by {@code testbed/ollama-testbed.sh build}
 * (CPU only), serving SmolLM2 (the GGUF file {@code testbed/llama-testbed.sh build} fetches) as the
 * model {@value #MODEL}, created offline from a Modelfile into a models directory of its own.
 * Without the binary or the model the tests fail under CI ({@code CI=true}) and are skipped
 * elsewhere.
 *
 * <p>Ollama runs each model in a runner process of its own that does not die with the server, so
 * the server is the first process of a PID namespace of its own ({@code unshare --pid
 * --kill-child}): when it dies, the kernel kills the runner too. The namespace dies with the test
 * JVM (PR_SET_PDEATHSIG), and with {@link #close()}.
 */
final class OllamaServer implements AutoCloseable {
    static final Path BINARY = LlamaServer.CACHE.resolve("ollama-0.17.4/ollama");
    static final String MODEL = "smollm2";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(120);

    private final Process process;
    private final int port;
    private final Path dir;
    private final Path log;

    private OllamaServer(Process process, int port, Path dir, Path log) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.log = log;
    }

    /**
     * A server with the model {@value #MODEL} made from SmolLM2's GGUF file and {@code modelfile},
     * the Modelfile's lines after its {@code FROM} (parameters, a template).
     */
    static OllamaServer start(Path workDir, String modelfile) throws Exception {
        require();
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        var dir = Files.createDirectories(workDir.resolve("ollama-" + port));
        var log = dir.resolve("ollama-serve.log");
        var builder = command(dir, port, "unshare", "--pid", "--fork", "--kill-child", "--", BINARY.toString(), "serve")
                .redirectOutput(log.toFile());
        var process = ParentBoundSpawner.start(builder::start, "ollama serve");
        var server = new OllamaServer(process, port, dir, log);
        try {
            server.awaitReady();
            server.create(modelfile);
        } catch (Exception | AssertionError e) {
            server.close();
            throw e;
        }
        return server;
    }

    private static void require() {
        if (Files.isExecutable(BINARY) && Files.isRegularFile(LlamaServer.SMOLLM2)) {
            return;
        }
        var message = "no ollama at " + BINARY + " or no model at " + LlamaServer.SMOLLM2
                + " (build them with testbed/ollama-testbed.sh build and testbed/llama-testbed.sh build)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
    }

    /** {@code args} under {@code setpriv --pdeathsig KILL}, with Ollama's address, models and home in {@code dir}. */
    private static ProcessBuilder command(Path dir, int port, String... args) throws IOException {
        var command = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        var env = builder.environment();
        env.put("OLLAMA_HOST", "127.0.0.1:" + port);
        env.put("OLLAMA_MODELS", Files.createDirectories(dir.resolve("models")).toString());
        // Ollama keeps its key pair under $HOME/.ollama: the test's, not the machine's.
        env.put("HOME", Files.createDirectories(dir.resolve("home")).toString());
        env.put("OLLAMA_NUM_PARALLEL", "1");
        return builder;
    }

    private void awaitReady() throws Exception {
        var deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                Assertions.fail("ollama serve exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try {
                var version = HTTP.send(HttpRequest.newBuilder(URI.create(url() + "/api/version"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (version.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        Assertions.fail("ollama serve was not ready within " + READY_TIMEOUT + ": " + Files.readString(log));
    }

    /** {@code ollama create}: imports the GGUF file into the server's models directory, no network. */
    private void create(String modelfile) throws Exception {
        var file = dir.resolve("Modelfile");
        Files.writeString(file, "FROM " + LlamaServer.SMOLLM2 + "\n" + modelfile);
        var createLog = dir.resolve("ollama-create.log");
        var builder = command(dir, port, BINARY.toString(), "create", MODEL, "-f", file.toString())
                .redirectOutput(createLog.toFile());
        var create = ParentBoundSpawner.start(builder::start, "ollama create");
        try {
            if (!create.waitFor(CREATE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                Assertions.fail("ollama create did not end within " + CREATE_TIMEOUT + ": " + Files.readString(createLog));
            }
            Assertions.assertEquals(0, create.exitValue(), () -> "ollama create: " + read(createLog) + "\nserver: " + read(log));
        } finally {
            create.destroyForcibly();
            create.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** The server's root, e.g. {@code http://127.0.0.1:11434} (the OpenAI routes are under /v1). */
    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** What the server wrote so far, for assertion messages. */
    String log() {
        return read(log);
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
