package io.nomadshell.e2e;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.launch.nomad.NomadLauncher;
import io.nomadshell.controlplane.launch.nomad.NomadOptions;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.preview.PreviewOptions;
import io.nomadshell.gateway.server.AttachServer;
import io.nomadshell.gateway.server.AttachServerOptions;
import io.nomadshell.gateway.server.AttachTls;
import io.nomadshell.gateway.server.GatewayOptions;
import io.nomadshell.gateway.server.GatewayServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * A real server with the Nomad launcher against the testbed's agent: embedded Redis, the gateway
 * on a free loopback port, sandboxes dispatched from {@code nomad-jobs/sandbox.nomad.hcl} with
 * network mode none, reaching the server through its Attach socket mounted into them (or, with
 * {@link #startOverTls}, in Nomad's bridge network, over TLS). Sandbox jobs
 * carry a prefix of their own, so a test finds (and cleans) exactly its own.
 */
final class NomadCluster implements AutoCloseable {
    /** The caps tests work within; a small default memory and disk (tmpfs, so memory too) keep several sandboxes cheap; no egress. */
    static final ResourcePolicy RESOURCES = resources(EgressPolicy.NONE);

    /** {@link #RESOURCES} with {@code egress} as the egress policy. */
    static ResourcePolicy resources(EgressPolicy egress) {
        return new ResourcePolicy(new SandboxResources(500, 512, Duration.ofMinutes(10), List.of(), 256),
                2000, 256, 2048, Duration.ofMinutes(10), egress, 1024);
    }

    private final ControlPlane controlPlane;
    private final GatewayServer gateway;
    private final AttachServer attach;
    private final Path attachSocket;
    private final String jobPrefix;
    private boolean closed;

    private NomadCluster(ControlPlane controlPlane, GatewayServer gateway, AttachServer attach, Path attachSocket,
            String jobPrefix) {
        this.controlPlane = controlPlane;
        this.gateway = gateway;
        this.attach = attach;
        this.attachSocket = attachSocket;
        this.jobPrefix = jobPrefix;
    }

    /** A new prefix for one test's sandbox jobs. */
    static String newJobPrefix() {
        return "nstest-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static NomadCluster start(Path dataDir, String modelBaseUrl, String jobPrefix) throws Exception {
        return start(dataDir, modelBaseUrl, jobPrefix, UnaryOperator.identity());
    }

    static NomadCluster start(Path dataDir, String modelBaseUrl, String jobPrefix,
            UnaryOperator<NomadOptions.Builder> customize) throws Exception {
        return start(dataDir, modelBaseUrl, jobPrefix, customize, RESOURCES);
    }

    static NomadCluster start(Path dataDir, String modelBaseUrl, String jobPrefix,
            UnaryOperator<NomadOptions.Builder> customize, ResourcePolicy resources) throws Exception {
        return start(dataDir, modelBaseUrl, jobPrefix, customize, resources, UnaryOperator.identity());
    }

    /** With {@code controlPlane} adjusting the control plane's options (a warm pool, say). */
    static NomadCluster start(Path dataDir, String modelBaseUrl, String jobPrefix,
            UnaryOperator<NomadOptions.Builder> customize, ResourcePolicy resources,
            UnaryOperator<ControlPlaneOptions.Builder> controlPlaneOptions) throws Exception {
        return start(dataDir, modelBaseUrl, jobPrefix, customize, resources, controlPlaneOptions, null);
    }

    /**
     * Sandboxes in Nomad's bridge network attach over TLS to the testbed's Attach address (see
     * {@link NomadTestbed#sandboxNetwork()}), which the testbed's firewall carries to this server's
     * listener on 127.0.0.1; its generated certificate names that address.
     */
    static NomadCluster startOverTls(Path dataDir, String modelBaseUrl, String jobPrefix) throws Exception {
        NomadTestbed.require();
        return start(dataDir, modelBaseUrl, jobPrefix, UnaryOperator.identity(), RESOURCES, UnaryOperator.identity(),
                NomadTestbed.sandboxNetwork().attach());
    }

    private static NomadCluster start(Path dataDir, String modelBaseUrl, String jobPrefix,
            UnaryOperator<NomadOptions.Builder> customize, ResourcePolicy resources,
            UnaryOperator<ControlPlaneOptions.Builder> controlPlaneOptions, @Nullable InetSocketAddress attachOverTls)
            throws Exception {
        NomadTestbed.require();
        var home = Files.createDirectories(dataDir.toAbsolutePath());
        var socket = home.resolve("attach").resolve("attach.sock");
        var builder = NomadOptions.fromEnv(System.getenv())
                .token(NomadTestbed.TOKEN)
                .image(NomadTestbed.IMAGE)
                .attachSocket(socket)
                .jobPrefix(jobPrefix)
                .placementTimeout(Duration.ofSeconds(20))
                .reconcileInterval(Duration.ofSeconds(2));
        var attachOptions = AttachServerOptions.socketOnly(socket);
        if (attachOverTls != null) {
            var host = attachOverTls.getHostString();
            var tls = AttachTls.generated(home.resolve("tls"), List.of(host));
            builder.attachAddress(host + ":" + attachOverTls.getPort(), Files.readString(requireNonNull(tls.ca())));
            attachOptions = new AttachServerOptions(socket, new InetSocketAddress("127.0.0.1", attachOverTls.getPort()), tls);
        }
        var options = customize.apply(builder).build();
        var launcher = NomadLauncher.start(options, resources.defaults());
        var controlPlane = ControlPlane.start(controlPlaneOptions.apply(ControlPlaneOptions.builder()
                .dataDir(home)
                .launcher(launcher)
                .model(new ModelOptions(modelBaseUrl, "test", "scripted", 2))
                .resources(resources)
                .readyTimeout(Duration.ofSeconds(90))
                .maxRunning(4))
                .build());
        AttachServer attach = null;
        try {
            attach = AttachServer.start(controlPlane, attachOptions);
            return new NomadCluster(controlPlane, GatewayServer.start(controlPlane,
                    new GatewayOptions(0, ApiKeys.none(), new PreviewOptions(0, PreviewOptions.DEFAULT_DOMAIN))),
                    attach, socket, jobPrefix);
        } catch (Exception e) {
            if (attach != null) {
                attach.close();
            }
            controlPlane.close();
            throw e;
        }
    }

    String jobPrefix() {
        return jobPrefix;
    }

    int port() {
        return gateway.port();
    }

    /** The Attach listener's Unix socket on the host (mounted into sandboxes at /run/nomad-shell). */
    Path attachSocket() {
        return attachSocket;
    }

    Rest rest() {
        return new Rest("http://127.0.0.1:" + gateway.port(), null);
    }

    ControlPlane controlPlane() {
        return controlPlane;
    }

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
