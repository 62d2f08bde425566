package io.nomadshell.daemon.tool.code;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.egress.EgressProxy;
import io.nomadshell.daemon.tool.SandboxPorts;
import io.nomadshell.daemon.tool.ServiceProcess;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.daemon.tool.ToolOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's Jupyter Server on its loopback port, started on first use and restarted when it
 * has died. It runs without a token: the sandbox has no network, and whatever runs in it already
 * has the rights the server would guard. Its runtime files live in the scratch directory, its
 * kernels work in the workspace. It serves under the configured base URL, and every address of it
 * is built from {@link Running#base()}.
 */
public final class JupyterServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(JupyterServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration POLL = Duration.ofMillis(200);

    private final ToolOptions options;
    private final Path workspace;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private @Nullable ServiceProcess server;
    private int generation;
    private boolean closed;

    public JupyterServer(ToolOptions options, Path workspace) {
        this.options = requireNonNull(options, "options");
        this.workspace = requireNonNull(workspace, "workspace");
    }

    /** A running server: where it answers, and which start of it this is. */
    public record Running(URI base, int generation) {}

    /**
     * Starts the server unless it runs, and returns once it answers.
     *
     * @throws ToolException if it cannot run here or does not answer in time
     */
    public synchronized Running ensureReady() throws ToolException, InterruptedException {
        if (closed) {
            throw new ToolException("the daemon is shutting down; Jupyter is stopped");
        }
        // Under its base_url: the path the gateway proxies to it unchanged, so its pages' links work there.
        URI base = URI.create("http://127.0.0.1:" + options.jupyterPort() + options.jupyterBaseUrl());
        if (server != null && server.alive()) {
            return new Running(base, generation);
        }
        if (server != null) {
            log.warn("{} died; restarting Jupyter Server", server);
        }
        Path home = options.scratch().resolve("jupyter");
        List<String> command = List.of(options.python(), "-m", "jupyter_server",
                "--ip=127.0.0.1", "--port=" + options.jupyterPort(), "--port-retries=0", "--no-browser",
                "--allow-root", "--ServerApp.token=", "--ServerApp.password=",
                "--ServerApp.disable_check_xsrf=True", "--ServerApp.allow_origin=*",
                "--ServerApp.base_url=" + options.jupyterBaseUrl(), "--ServerApp.root_dir=" + workspace);
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
        awaitAnswer(base, requireNonNull(server, "server"), home.resolve("server.log"));
        log.info("Jupyter Server is up on port {}", options.jupyterPort());
        return new Running(base, generation);
    }

    public int port() {
        return options.jupyterPort();
    }

    HttpClient http() {
        return http;
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

    private void awaitAnswer(URI base, ServiceProcess started, Path logFile) throws ToolException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        HttpRequest status = HttpRequest.newBuilder(base.resolve("api/status")).timeout(Duration.ofSeconds(2)).GET().build();
        while (System.nanoTime() < deadline) {
            if (!started.alive()) {
                throw new ToolException("Jupyter Server exited at start (code " + started.process().exitValue()
                        + "); is python3-jupyter-server installed? See " + logFile);
            }
            try {
                if (http.send(status, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
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
