package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.util.BlockingTaskExecutor;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerConfig;
import com.linecorp.armeria.server.ServerPort;
import com.linecorp.armeria.server.docs.DocService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.UnframedGrpcErrorHandler;
import com.linecorp.armeria.server.grpc.UnframedGrpcStatusMappingFunction;
import com.linecorp.armeria.server.healthcheck.HealthCheckService;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.gateway.api.GetJobRoute;
import io.nomadshell.gateway.api.JobGrpcService;
import io.nomadshell.gateway.api.JobStatuses;
import io.nomadshell.gateway.api.RestJson;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.gateway.auth.OwnerInterceptor;
import io.nomadshell.gateway.http.DownloadService;
import io.nomadshell.gateway.http.JsonErrorHandler;
import io.nomadshell.gateway.http.LiveRoutes;
import io.nomadshell.gateway.http.PlainTextTasks;
import io.nomadshell.gateway.http.ScheduleTime;
import io.nomadshell.gateway.http.UploadService;
import io.nomadshell.gateway.ops.Operations;
import io.nomadshell.gateway.preview.PreviewServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public Armeria server in front of a control plane: the gRPC API and its REST face on one port,
 * the streamed download beside them. Sandboxes never reach it: they attach to the {@link AttachServer}.
 * Sandbox ports are served apart, by the {@link PreviewServer} on a port of its own.
 */
public final class GatewayServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);
    /** Threads that read zips from disk for REST downloads: each holds one only for one chunk's read. */
    private static final int DOWNLOAD_READERS = 8;
    /** The name of the preview links' key among the control plane's shared secrets. */
    private static final String LINK_KEY = "links";
    private static final long MIB = 1024 * 1024;
    private static final long DEFAULT_MAX_REQUEST = 10 * MIB;
    /** Sending the largest archive over a slow link. */
    private static final Duration UPLOAD_TIME = Duration.ofMinutes(10);

    /** RESOURCE_EXHAUSTED is a key past its limits (429) or a request past a cap (413, as for uploads). */
    private static final UnframedGrpcStatusMappingFunction EXHAUSTED_AS_429_OR_413 = ((UnframedGrpcStatusMappingFunction)
            (ctx, status, cause) -> status.getCode() != Status.Code.RESOURCE_EXHAUSTED ? null
                    : JobStatuses.overQuota(ctx) ? HttpStatus.TOO_MANY_REQUESTS
                    : HttpStatus.REQUEST_ENTITY_TOO_LARGE).orElse(UnframedGrpcStatusMappingFunction.of());

    private final Server server;
    private final PreviewServer preview;

    private GatewayServer(Server server, PreviewServer preview) {
        this.server = server;
        this.preview = preview;
    }

    public static GatewayServer start(ControlPlane controlPlane, GatewayOptions options) throws IOException {
        requireNonNull(controlPlane, "controlPlane");
        requireNonNull(options, "options");
        var jobs = controlPlane.jobs();
        var grpc = GrpcService.builder()
                // Given as the implementation (not a bare definition) so its @Blocking methods are found.
                .addService(new JobGrpcService(jobs, controlPlane.tunnels()),
                        service -> ServerInterceptors.intercept(service, new OwnerInterceptor()))
                .addService(ProtoReflectionServiceV1.newInstance())
                .enableHealthCheckService(true)
                .enableHttpJsonTranscoding(true)
                .httpJsonTranscodingErrorHandler(UnframedGrpcErrorHandler.ofJson(EXHAUSTED_AS_429_OR_413))
                // The REST contract is snake_case (job_id, download_url), as in the .proto.
                .jsonMarshallerFactory(RestJson::marshaller)
                // Only the methods marked @Blocking (the unary calls) take a thread of the shared blocking
                // pool; streams and their flow-control callbacks never wait for one.
                .useBlockingTaskExecutor(false)
                .build();

        var uploads = jobs.uploads();
        // A gRPC Upload stream counts as one request: room for the largest archive and its framing. The
        // access guard holds every other request to its own limit.
        var builder = Server.builder().maxRequestLength(Math.max(DEFAULT_MAX_REQUEST, uploads.maxArchiveBytes() + MIB));
        var address = options.bindAddress();
        if (address == null) {
            builder.http(options.port());
        } else {
            builder.port(new ServerPort(new InetSocketAddress(address, options.port()), SessionProtocol.HTTP));
        }
        var preview = PreviewServer.start(jobs, controlPlane.tunnels(), options.preview(), address,
                controlPlane.sharedSecrets().get(LINK_KEY));
        var live = LiveRoutes.install(builder, jobs, controlPlane.tunnels(), preview.links());
        Operations.install(builder, jobs, controlPlane.metrics(), controlPlane.tunnels(), live);
        var server = builder
                // GetJob's REST face is answered on the event loop, in front of its transcoding.
                .service(grpc, GetJobRoute.inFrontOfTranscoding(jobs))
                .decorator("/schedule", new PlainTextTasks())
                .routeDecorator().post("/v1/jobs").build(new ScheduleTime(jobs.seedFetchTimeout()))
                .routeDecorator().post("/schedule").build(new ScheduleTime(jobs.seedFetchTimeout()))
                .routeDecorator().post("/submit").build(new ScheduleTime(jobs.seedFetchTimeout()))
                .decorator("/submit", new PlainTextTasks())
                // One guard in front of every route and method (added last, so it runs first: before
                // a plain-text task's body is read); see AccessGuard for what is public.
                .decorator(new AccessGuard(options.apiKeys(), options.metricsPublic()))
                // The zip is read from disk a chunk at a time as the client takes it, on threads of its own.
                .route().path("/download/{job_id}")
                .blockingTaskExecutor(BlockingTaskExecutor.builder()
                        .numThreads(DOWNLOAD_READERS).threadNamePrefix("download-read").build(), true)
                .build(new DownloadService(jobs))
                // A seed archive arrives as a stream to disk, up to the upload cap (checked by the receipt first).
                .route().post("/v1/uploads")
                .maxRequestLength(uploads.maxArchiveBytes() + 1)
                .requestTimeout(UPLOAD_TIME)
                .build(new UploadService(uploads))
                .service("/internal/healthcheck", HealthCheckService.of())
                .serviceUnder("/docs", DocService.builder().build())
                .errorHandler(new JsonErrorHandler())
                .gracefulShutdownTimeout(Duration.ofSeconds(1), Duration.ofSeconds(5))
                .build();
        try {
            server.start().join();
        } catch (RuntimeException e) {
            preview.close();
            throw e;
        }
        var gateway = new GatewayServer(server, preview);
        if (options.apiKeys().enabled()) {
            log.info("Nomad Shell listening on {}port {} (gRPC and REST); API keys required",
                    address == null ? "" : address.getHostAddress() + " ", gateway.port());
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
                .filter(port -> port.localAddress() instanceof InetSocketAddress)
                .mapToInt(port -> port.localAddress().getPort())
                .findFirst()
                .orElseThrow();
    }

    /** The TCP port sandbox previews are served on. */
    public int previewPort() {
        return preview.port();
    }

    @Override
    public void close() {
        try {
            server.stop().join();
        } finally {
            preview.close();
        }
    }
}
