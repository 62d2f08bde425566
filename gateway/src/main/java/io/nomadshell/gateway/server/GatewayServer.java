package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import com.linecorp.armeria.common.util.DomainSocketAddress;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerConfig;
import com.linecorp.armeria.server.ServerPort;
import com.linecorp.armeria.server.docs.DocService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.healthcheck.HealthCheckService;
import io.grpc.ServerInterceptors;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.gateway.api.JobGrpcService;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.gateway.auth.OwnerInterceptor;
import io.nomadshell.gateway.http.DownloadService;
import io.nomadshell.gateway.http.JsonErrorHandler;
import io.nomadshell.gateway.http.LiveRoutes;
import io.nomadshell.gateway.http.PlainTextTasks;
import io.nomadshell.gateway.ops.Operations;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Armeria server in front of a control plane: the public gRPC API and its REST face on one
 * port, the streamed download beside them, and the internal Attach service on the same port and,
 * for local sandboxes, on a Unix socket.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);

    private final Server server;

    private GatewayServer(Server server) {
        this.server = server;
    }

    public static GatewayServer start(ControlPlane controlPlane, GatewayOptions options) throws IOException {
        requireNonNull(controlPlane, "controlPlane");
        requireNonNull(options, "options");
        var jobs = controlPlane.jobs();
        var grpc = GrpcService.builder()
                .addService(ServerInterceptors.intercept(new JobGrpcService(jobs, controlPlane.tunnels()), new OwnerInterceptor()))
                .addService(controlPlane.attachService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .enableHealthCheckService(true)
                .enableHttpJsonTranscoding(true)
                // The REST contract is snake_case (job_id, download_url), as in the .proto.
                .jsonMarshallerFactory(service -> GrpcJsonMarshaller.builder()
                        .jsonMarshallerCustomizer(json -> json.preservingProtoFieldNames(true))
                        .build(service))
                .useBlockingTaskExecutor(true)
                .build();

        var builder = Server.builder();
        if (options.apiKeys().enabled()) {
            builder.http(options.port());
        } else {
            builder.port(new ServerPort(new InetSocketAddress("127.0.0.1", options.port()), SessionProtocol.HTTP));
        }
        var socket = options.attachSocket();
        if (socket != null) {
            Files.createDirectories(socket.toAbsolutePath().getParent());
            Files.deleteIfExists(socket);
            builder.port(new ServerPort(DomainSocketAddress.of(socket), SessionProtocol.HTTP));
        }
        // One guard in front of every route and method; see AccessGuard for what is public.
        builder.decorator(new AccessGuard(options.apiKeys(), options.metricsPublic()));
        var live = LiveRoutes.install(builder, jobs, controlPlane.tunnels());
        Operations.install(builder, jobs, controlPlane.metrics(), controlPlane.tunnels(), live);
        var server = builder
                .service(grpc)
                .decorator("/schedule", new PlainTextTasks())
                .decorator("/submit", new PlainTextTasks())
                // An Attach stream lives as long as its job and carries whole zips upstream.
                .decoratorUnder("/" + SandboxServiceGrpc.SERVICE_NAME + "/", (delegate, ctx, req) -> {
                    ctx.setMaxRequestLength(0);
                    ctx.clearRequestTimeout();
                    return delegate.serve(ctx, req);
                })
                .service("/download/{job_id}", new DownloadService(jobs))
                .service("/internal/healthcheck", HealthCheckService.of())
                .serviceUnder("/docs", DocService.builder().build())
                .errorHandler(new JsonErrorHandler())
                .gracefulShutdownTimeout(Duration.ofSeconds(1), Duration.ofSeconds(5))
                .build();
        server.start().join();
        var gateway = new GatewayServer(server);
        if (options.apiKeys().enabled()) {
            log.info("Nomad Shell listening on port {} (gRPC and REST); API keys required", gateway.port());
        } else {
            log.warn("No API keys configured: listening on loopback only (127.0.0.1:{}). "
                    + "Set NOMAD_SHELL_API_KEYS to accept other hosts.", gateway.port());
        }
        return gateway;
    }

    /** What the server serves (its routes), for tests that check every one. */
    public ServerConfig config() {
        return server.config();
    }

    /** The TCP port gRPC and REST are served on. */
    public int port() {
        return server.activePorts().values().stream()
                .filter(port -> port.localAddress() instanceof InetSocketAddress && !(port.localAddress() instanceof DomainSocketAddress))
                .mapToInt(port -> port.localAddress().getPort())
                .findFirst()
                .orElseThrow();
    }

    @Override
    public void close() {
        server.stop().join();
    }
}
