package io.nomadshell.e2e;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.ServerConfig;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.launch.local.DaemonCommand;
import io.nomadshell.controlplane.launch.local.LocalLauncher;
import io.nomadshell.controlplane.launch.local.LocalLauncherOptions;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.preview.PreviewOptions;
import io.nomadshell.gateway.server.AttachServer;
import io.nomadshell.gateway.server.AttachServerOptions;
import io.nomadshell.gateway.server.GatewayOptions;
import io.nomadshell.gateway.server.GatewayServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A real server as the CLI starts it: embedded Redis under the data dir, the local bubblewrap
 * launcher running the real agent daemon jar, the gateway on a free loopback port and the Attach
 * listener on the Unix socket mounted into sandboxes.
 * Start it again on the same data dir to simulate a restart.
 */
final class TestCluster implements AutoCloseable {
    private final ControlPlane controlPlane;
    private final GatewayServer gateway;
    private final AttachServer attach;
    private final Path attachSocket;
    private boolean closed;

    private TestCluster(ControlPlane controlPlane, GatewayServer gateway, AttachServer attach, Path attachSocket) {
        this.controlPlane = controlPlane;
        this.gateway = gateway;
        this.attach = attach;
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
        return start(dataDir, modelBaseUrl, 1, ApiKeys.none(), configure, UnaryOperator.identity());
    }

    /** A cluster whose sandboxes {@code wrap} starts, around the real local launcher (to watch what it is given). */
    static TestCluster startWrapping(Path dataDir, String modelBaseUrl, UnaryOperator<SandboxLauncher> wrap)
            throws IOException {
        return start(dataDir, modelBaseUrl, 1, ApiKeys.none(), UnaryOperator.identity(), wrap);
    }

    /** A cluster with API keys whose control-plane options {@code configure} changes. */
    static TestCluster start(Path dataDir, String modelBaseUrl, int maxRunning, ApiKeys keys,
            UnaryOperator<ControlPlaneOptions.Builder> configure) throws IOException {
        return start(dataDir, modelBaseUrl, maxRunning, keys, configure, UnaryOperator.identity());
    }

    private static TestCluster start(Path dataDir, String modelBaseUrl, int maxRunning, ApiKeys keys,
            UnaryOperator<ControlPlaneOptions.Builder> configure, UnaryOperator<SandboxLauncher> wrap)
            throws IOException {
        var home = Files.createDirectories(dataDir.toAbsolutePath());
        var socket = home.resolve("attach").resolve("attach.sock");
        var launcher = wrap.apply(LocalLauncher.of(DaemonCommand.configure(LocalLauncherOptions.builder(), daemonJar())
                .attachSocket(socket)
                .logDirectory(home.resolve("sandbox-logs"))
                .build()));
        var controlPlane = ControlPlane.start(configure.apply(ControlPlaneOptions.builder()
                .dataDir(home)
                .launcher(launcher)
                .model(new ModelOptions(modelBaseUrl, "test", "scripted", 2))
                .maxRunning(maxRunning)
                .quotas(keys.quotas()))
                .build());
        AttachServer attach = null;
        try {
            attach = AttachServer.start(controlPlane, AttachServerOptions.socketOnly(socket));
            return new TestCluster(controlPlane, GatewayServer.start(controlPlane,
                    new GatewayOptions(0, keys, new PreviewOptions(0, PreviewOptions.DEFAULT_DOMAIN))), attach, socket);
        } catch (IOException | RuntimeException e) {
            if (attach != null) {
                attach.close();
            }
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

    /** Where sandbox ports are previewed: p<port>-<job>.localhost on this port. */
    int previewPort() {
        return gateway.previewPort();
    }

    /** Every route the gateway serves, for tests that check each one. */
    ServerConfig serverConfig() {
        return gateway.config();
    }

    ControlPlane controlPlane() {
        return controlPlane;
    }

    /** The Attach listener's Unix socket on the host (mounted into sandboxes at /run/nomad-shell). */
    Path attachSocket() {
        return attachSocket;
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

    /** Stops as the server does: no new jobs, then the gateway and the Attach listener, then the control plane (sandboxes, Redis). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        controlPlane.stopAcceptingJobs();
        try {
            gateway.close();
            attach.close();
        } finally {
            controlPlane.close();
        }
    }
}
