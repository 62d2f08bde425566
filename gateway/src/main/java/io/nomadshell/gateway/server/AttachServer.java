package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.util.BlockingTaskExecutor;
import com.linecorp.armeria.common.util.DomainSocketAddress;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerPort;
import com.linecorp.armeria.server.grpc.GrpcService;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox-facing listener: {@code SandboxService} and nothing else (no public API, REST, reflection,
 * health, docs, metrics or UI), on the Unix socket mounted into sandboxes and, for sandboxes on other
 * hosts, over TLS on TCP. Whatever a process in a sandbox sends here reaches only the Attach service,
 * whose interceptor checks the daemon's credential before the stream is accepted.
 */
public final class AttachServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AttachServer.class);
    /** Attach's own threads: a daemon's messages run on one at a time, each briefly (a Redis write at most). */
    private static final int ATTACH_THREADS = 64;
    /** The one path whose requests may be as long and last as long as a job. */
    static final String ATTACH_PATH = "/" + SandboxServiceGrpc.getAttachMethod().getFullMethodName();

    private final Server server;

    private AttachServer(Server server) {
        this.server = server;
    }

    public static AttachServer start(ControlPlane controlPlane, AttachServerOptions options) throws IOException {
        requireNonNull(controlPlane, "controlPlane");
        requireNonNull(options, "options");
        var grpc = GrpcService.builder()
                .addService(controlPlane.attachService())
                // Checking a credential, admitting a daemon and recording its tool events talk to Redis:
                // on Attach's own threads (see below), never the pool the public API shares.
                .useBlockingTaskExecutor(true)
                .build();
        var socket = options.socket().toAbsolutePath();
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        var builder = Server.builder()
                .port(new ServerPort(DomainSocketAddress.of(socket), SessionProtocol.HTTP))
                // Daemons' heartbeats and tool events must not wait behind watchers, downloads or API calls.
                .blockingTaskExecutor(BlockingTaskExecutor.builder()
                        .numThreads(ATTACH_THREADS).threadNamePrefix("attach").build(), true);
        var listen = options.listen();
        var tls = options.tls();
        if (listen != null && tls != null) {
            builder.port(new ServerPort(listen, SessionProtocol.HTTPS))
                    .tls(tls.certificate().toFile(), tls.privateKey().toFile());
        }
        var server = builder
                .service(grpc)
                // An Attach stream lives as long as its job and carries whole zips upstream: it alone goes
                // unbounded in length and time; any other path keeps Armeria's limits.
                .decorator((delegate, ctx, req) -> {
                    if (ATTACH_PATH.equals(ctx.path())) {
                        ctx.setMaxRequestLength(0);
                        ctx.clearRequestTimeout();
                    }
                    return delegate.serve(ctx, req);
                })
                // Anyone in a sandbox can connect without a credential: bound what they can make us hold.
                // Connections past the cap are closed as accepted; those carrying no request are closed
                // when idle (a daemon's Attach stream is a request in flight, so it is never idle).
                .maxNumConnections(options.maxConnections())
                .idleTimeout(options.idleTimeout())
                .gracefulShutdownTimeout(Duration.ofSeconds(1), Duration.ofSeconds(5))
                .build();
        server.start().join();
        // Sandboxes connect as unprivileged uids of their own; each must still present its job's credential.
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        var attach = new AttachServer(server);
        var tcp = attach.tlsAddress();
        log.info("Sandboxes attach at {}{}", socket,
                tcp == null ? "" : " and over TLS at " + tcp.getHostString() + ":" + tcp.getPort());
        return attach;
    }

    /** The TCP address Attach is served on over TLS, or null when it is served on the Unix socket only. */
    public @Nullable InetSocketAddress tlsAddress() {
        return server.activePorts().values().stream()
                .filter(port -> !(port.localAddress() instanceof DomainSocketAddress))
                .map(port -> port.localAddress())
                .findFirst()
                .orElse(null);
    }

    @Override
    public void close() {
        server.stop().join();
    }
}
