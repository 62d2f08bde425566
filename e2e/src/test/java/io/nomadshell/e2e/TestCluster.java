package io.nomadshell.e2e;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.ServerConfig;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.agent.ModelOptions;
import io.nomadshell.controlplane.launch.local.DaemonCommand;
import io.nomadshell.controlplane.launch.local.LocalLauncher;
import io.nomadshell.controlplane.launch.local.LocalLauncherOptions;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.server.GatewayOptions;
import io.nomadshell.gateway.server.GatewayServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A real server as the CLI starts it: embedded Redis under the data dir, the local bubblewrap
 * launcher running the real agent daemon jar, and the gateway on a free loopback port.
 * Start it again on the same data dir to simulate a restart.
 */
final class TestCluster implements AutoCloseable {
    private final ControlPlane controlPlane;
    private final GatewayServer gateway;
    private final Path attachSocket;
    private boolean closed;

    private TestCluster(ControlPlane controlPlane, GatewayServer gateway, Path attachSocket) {
        this.controlPlane = controlPlane;
        this.gateway = gateway;
        this.attachSocket = attachSocket;
    }

    static TestCluster start(Path dataDir, String modelBaseUrl, int maxRunning) throws IOException {
        return start(dataDir, modelBaseUrl, maxRunning, ApiKeys.none());
    }

    static TestCluster start(Path dataDir, String modelBaseUrl, int maxRunning, ApiKeys keys) throws IOException {
        return start(dataDir, modelBaseUrl, maxRunning, keys, UnaryOperator.identity());
    }

    /** A cluster whose control-plane options {@code configure} changes (limits, context budget). */
    static TestCluster start(Path dataDir, String modelBaseUrl, UnaryOperator<ControlPlaneOptions.Builder> configure)
            throws IOException {
        return start(dataDir, modelBaseUrl, 1, ApiKeys.none(), configure);
    }

    private static TestCluster start(Path dataDir, String modelBaseUrl, int maxRunning, ApiKeys keys,
            UnaryOperator<ControlPlaneOptions.Builder> configure) throws IOException {
        var home = Files.createDirectories(dataDir.toAbsolutePath());
        var socket = home.resolve("attach").resolve("attach.sock");
        var launcher = LocalLauncher.of(DaemonCommand.configure(LocalLauncherOptions.builder(), daemonJar())
                .attachSocket(socket)
                .logDirectory(home.resolve("sandbox-logs"))
                .build());
        var controlPlane = ControlPlane.start(configure.apply(ControlPlaneOptions.builder()
                .dataDir(home)
                .launcher(launcher)
                .model(new ModelOptions(modelBaseUrl, "test", "scripted", 2))
                .maxRunning(maxRunning))
                .build());
        try {
            return new TestCluster(controlPlane, GatewayServer.start(controlPlane, new GatewayOptions(0, keys, socket)), socket);
        } catch (IOException | RuntimeException e) {
            controlPlane.close();
            throw e;
        }
    }

    static Path daemonJar() {
        var property = requireNonNull(System.getProperty("nomadshell.daemonJar"),
                "system property nomadshell.daemonJar (set by the e2e pom)");
        var jar = Path.of(property).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the agent daemon jar is missing: " + jar + " (build agent-daemon first)");
        }
        return jar;
    }

    int port() {
        return gateway.port();
    }

    /** The Unix socket mounted into local sandboxes. */
    Path attachSocket() {
        return attachSocket;
    }

    /** Every route the gateway serves, for tests that check each one. */
    ServerConfig serverConfig() {
        return gateway.config();
    }

    ControlPlane controlPlane() {
        return controlPlane;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    Rest rest() {
        return new Rest(baseUrl(), null);
    }

    Rest rest(String apiKey) {
        return new Rest(baseUrl(), apiKey);
    }

    /** Stops as the server does: no new jobs, then the gateway, then the control plane (sandboxes, Redis). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        controlPlane.stopAcceptingJobs();
        try {
            gateway.close();
        } finally {
            controlPlane.close();
        }
    }
}
