package io.nomadshell.daemon.tool.code;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nomadshell.daemon.egress.EgressProxy;
import io.nomadshell.daemon.tool.Lazy;
import io.nomadshell.daemon.tool.SandboxPorts;
import io.nomadshell.daemon.tool.ServiceProcess;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.daemon.tool.ToolOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's Jupyter Server on its loopback port, started on first use and restarted when it
 * has died. It demands the token the control plane gave in the Welcome ({@link #useToken}), with its
 * XSRF and origin checks on (their defaults): a page or process that lacks the token cannot drive
 * it, and the preview proxy adds the token outside the browser. The token reaches the server through
 * a config file only its user can read, never argv or the environment, which other processes in the
 * sandbox can read. Its runtime files live in the scratch directory, its kernels work in the
 * workspace; it serves at the root of its port, as its preview origin shows it.
 */
public final class JupyterServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(JupyterServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration POLL = Duration.ofMillis(200);

    private final ToolOptions options;
    private final Path workspace;
    /** Made on first use: an idle daemon loads neither the HTTP client nor TLS. */
    private final Lazy<HttpClient> http =
            Lazy.of(() -> HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build());
    private @Nullable ServiceProcess server;
    private @Nullable String token;
    private int generation;
    private boolean closed;

    public JupyterServer(ToolOptions options, Path workspace) {
        this.options = requireNonNull(options, "options");
        this.workspace = requireNonNull(workspace, "workspace");
    }

    /** A running server: where it answers, the token it demands, and which start of it this is. */
    public record Running(URI base, String token, int generation) {}

    /**
     * The token the server must demand from now on. A server running with another one is stopped,
     * so the next use starts it with this one.
     */
    public void useToken(String token) {
        requireNonNull(token, "token");
        if (token.isBlank()) {
            throw new IllegalArgumentException("the Jupyter token is empty");
        }
        ServiceProcess stale;
        synchronized (this) {
            if (token.equals(this.token)) {
                return;
            }
            this.token = token;
            stale = server;
            server = null;
        }
        if (stale != null) {
            log.info("Jupyter's token changed; stopping {} so that it restarts with the new one", stale);
            stale.stop();
        }
    }

    /**
     * Starts the server unless it runs, and returns once it answers.
     *
     * @throws ToolException if it cannot run here or does not answer in time
     */
    public synchronized Running ensureReady() throws ToolException, InterruptedException {
        if (closed) {
            throw new ToolException("the daemon is shutting down; Jupyter is stopped");
        }
        String demanded = token;
        if (demanded == null) {
            throw new ToolException("Jupyter has no token yet; the control plane gives one when the daemon attaches");
        }
        URI base = URI.create("http://127.0.0.1:" + options.jupyterPort() + "/");
        if (server != null && server.alive()) {
            return new Running(base, demanded, generation);
        }
        if (server != null) {
            log.warn("{} died; restarting Jupyter Server", server);
        }
        Path home = options.scratch().resolve("jupyter");
        try {
            writeConfig(home.resolve("config"), demanded);
        } catch (IOException e) {
            throw new ToolException("cannot write Jupyter Server's configuration: " + e.getMessage());
        }
        List<String> command = List.of(options.python(), "-m", "jupyter_server",
                "--ip=127.0.0.1", "--port=" + options.jupyterPort(), "--port-retries=0", "--no-browser",
                "--allow-root", "--ServerApp.password=", "--ServerApp.root_dir=" + workspace);
        // Kernels (pip in a notebook) reach out through the sandbox's egress proxy, as exec does.
        Map<String, String> env = new HashMap<>(EgressProxy.environment(SandboxPorts.EGRESS_PROXY));
        env.putAll(Map.of(
                "JUPYTER_RUNTIME_DIR", home.resolve("runtime").toString(),
                "JUPYTER_CONFIG_DIR", home.resolve("config").toString(),
                "IPYTHONDIR", home.resolve("ipython").toString(),
                "MPLCONFIGDIR", home.resolve("matplotlib").toString(),
                "PYDEVD_DISABLE_FILE_VALIDATION", "1"));
        try {
            server = ServiceProcess.start("jupyter-server", command, env, home.resolve("server.log"), false);
        } catch (IOException e) {
            throw new ToolException("cannot start Jupyter Server with " + options.python() + ": " + e.getMessage());
        }
        generation++;
        awaitAnswer(base, demanded, requireNonNull(server, "server"), home.resolve("server.log"));
        log.info("Jupyter Server is up on port {}", options.jupyterPort());
        return new Running(base, demanded, generation);
    }

    /** The {@code Authorization} header value that passes the server's token check. */
    static String authorization(String token) {
        return "token " + token;
    }

    public int port() {
        return options.jupyterPort();
    }

    HttpClient http() {
        return http.get();
    }

    /** Stops the server and its kernels; later calls fail. Idempotent. */
    @Override
    public void close() {
        ServiceProcess running;
        synchronized (this) {
            closed = true;
            running = server;
            server = null;
        }
        if (running != null) {
            running.stop();
        }
    }

    /** The token in {@code jupyter_server_config.json}, readable by this user alone. */
    private static void writeConfig(Path configDir, String token) throws IOException {
        Files.createDirectories(configDir);
        Path file = configDir.resolve("jupyter_server_config.json");
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        ObjectNode config = new ObjectMapper().createObjectNode();
        config.putObject("ServerApp").put("token", token);
        Files.writeString(file, config.toString());
    }

    private void awaitAnswer(URI base, String token, ServiceProcess started, Path logFile)
            throws ToolException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        HttpRequest status = HttpRequest.newBuilder(base.resolve("api/status")).timeout(Duration.ofSeconds(2))
                .header("Authorization", authorization(token)).GET().build();
        while (System.nanoTime() < deadline) {
            if (!started.alive()) {
                throw new ToolException("Jupyter Server exited at start (code " + started.process().exitValue()
                        + "); is python3-jupyter-server installed? See " + logFile);
            }
            try {
                if (http().send(status, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            Thread.sleep(POLL);
        }
        started.stop();
        throw new ToolException("Jupyter Server did not answer within " + START_TIMEOUT.toSeconds() + " s");
    }
}
