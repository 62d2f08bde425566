package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.nomadshell.daemon.tunnel.SandboxTunnels;
import io.nomadshell.proto.v1.Claim;
import io.nomadshell.proto.v1.Claimed;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Heartbeat;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc.SandboxServiceStub;
import io.nomadshell.proto.v1.Welcome;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Attach stream, from Hello to its end: waits for the Welcome, then heartbeats, hands tool
 * calls on, and declares the stream dead when nothing arrives for three heartbeat intervals.
 */
final class AttachSession implements ClientResponseObserver<DaemonMessage, ControlMessage> {

    private static final Logger log = LoggerFactory.getLogger(AttachSession.class);
    private static final int SILENT_INTERVALS = 3;
    /**
     * What the transport may hold before the stream says it is not ready: a few tunnel frames
     * (gRPC's 32 KiB would make every large frame wait for the one before it to be written out).
     */
    private static final int ON_READY_BYTES = 512 * 1024;

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final Hello hello;
    private final AttachCredential credential;
    private final Outbox outbox;
    private final ToolCalls calls;
    private final SandboxTunnels tunnels;
    private final ScheduledExecutorService timer;
    private final Duration defaultHeartbeat;
    private final CompletableFuture<SessionEnd> end = new CompletableFuture<>();

    private volatile @Nullable ClientCallStreamObserver<DaemonMessage> requests;
    private volatile long lastHeardNanos = System.nanoTime();
    private volatile boolean welcomed;
    private volatile @Nullable Duration reattachWindow;
    private @Nullable ScheduledFuture<?> ticks;

    AttachSession(Hello hello, AttachCredential credential, Outbox outbox, ToolCalls calls, SandboxTunnels tunnels,
                  ScheduledExecutorService timer, Duration defaultHeartbeat) {
        this.hello = requireNonNull(hello, "hello");
        this.credential = requireNonNull(credential, "credential");
        this.outbox = requireNonNull(outbox, "outbox");
        this.calls = requireNonNull(calls, "calls");
        // Tunnels belong to one stream: the control plane's end of them goes when the stream does.
        this.tunnels = requireNonNull(tunnels, "tunnels");
        this.timer = requireNonNull(timer, "timer");
        this.defaultHeartbeat = requireNonNull(defaultHeartbeat, "defaultHeartbeat");
    }

    /** How long to redial once this stream broke, as its Welcome said; {@code otherwise} if it said nothing. */
    Duration reattachWindow(Duration otherwise) {
        var window = reattachWindow;
        return window == null ? otherwise : window;
    }

    /** Opens the stream on {@code stub} with the current credential, says Hello, and blocks until the stream ends. */
    SessionEnd run(SandboxServiceStub stub) throws InterruptedException {
        var headers = new Metadata();
        headers.put(AUTHORIZATION, credential.header());
        stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withOnReadyThreshold(ON_READY_BYTES)
                .attach(this);
        ClientCallStreamObserver<DaemonMessage> stream = stream();
        outbox.sendFirst(stream, DaemonMessage.newBuilder().setHello(hello).build());
        // Until the Welcome names an interval, the default one bounds the wait for it.
        tickEvery(defaultHeartbeat);
        try {
            return end.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the session end is never completed exceptionally", e);
        } finally {
            stopTicking();
            tunnels.closeAll();
            outbox.detach(stream);
        }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<DaemonMessage> requestStream) {
        requests = requestStream;
        requestStream.setOnReadyHandler(outbox::readyChanged);
    }

    @Override
    public void onNext(ControlMessage message) {
        lastHeardNanos = System.nanoTime();
        switch (message.getKindCase()) {
            case WELCOME -> welcome(message.getWelcome());
            case HEARTBEAT -> { } // Being heard is all a heartbeat is for.
            case TOOL_CALL -> calls.start(message.getToolCall());
            case CLAIM -> claim(message.getClaim());
            case TUNNEL -> tunnels.onFrame(message.getTunnel());
            case SHUTDOWN -> {
                outbox.complete(stream());
                end.complete(new SessionEnd.Shutdown(message.getShutdown().getReason()));
            }
            case KIND_NOT_SET -> log.debug("ignoring a control message of a kind this daemon does not know");
        }
    }

    @Override
    public void onError(Throwable t) {
        Status status = Status.fromThrowable(t);
        String reason = status.getCode()
                + (status.getDescription() == null ? "" : ": " + status.getDescription());
        // ALREADY_EXISTS is a broken stream, not a refusal: after a real break the control plane may
        // not have dropped the old stream yet, and lets the resume secret in once it has.
        boolean refused = status.getCode() == Status.Code.UNAUTHENTICATED
                || status.getCode() == Status.Code.PERMISSION_DENIED;
        end.complete(refused ? new SessionEnd.Rejected(reason) : new SessionEnd.Broken(reason, welcomed));
    }

    @Override
    public void onCompleted() {
        end.complete(new SessionEnd.Broken("the control plane closed the stream", welcomed));
    }

    private void welcome(Welcome welcome) {
        Duration interval = welcome.getHeartbeatIntervalMs() > 0
                ? Duration.ofMillis(welcome.getHeartbeatIntervalMs())
                : defaultHeartbeat;
        log.info("attached to job {} (heartbeat every {} ms)", welcome.getJobId(), interval.toMillis());
        if (!welcome.getResumeSecret().isEmpty()) {
            credential.resumeWith(welcome.getJobId(), welcome.getResumeSecret());
        }
        if (welcome.getReattachWindowMs() > 0) {
            reattachWindow = Duration.ofMillis(welcome.getReattachWindowMs());
        }
        welcomed = true;
        calls.welcomed(welcome);
        outbox.attach(stream());
        tickEvery(interval);
    }

    /**
     * A warm-pool daemon becomes the job's: it redials with the job's resume secret from now on, and
     * says so only once it has switched.
     */
    private void claim(Claim claim) {
        if (claim.getJobId().isEmpty() || claim.getResumeSecret().isEmpty()) {
            log.warn("ignoring a claim without a job or a resume secret");
            return;
        }
        credential.resumeWith(claim.getJobId(), claim.getResumeSecret());
        calls.claimed(claim);
        log.info("claimed by job {}", claim.getJobId());
        outbox.send(DaemonMessage.newBuilder().setClaimed(Claimed.newBuilder().setJobId(claim.getJobId())).build());
    }

    private synchronized void tickEvery(Duration interval) {
        if (ticks != null) {
            ticks.cancel(false);
        }
        if (end.isDone()) {
            return;
        }
        long ms = interval.toMillis();
        ticks = timer.scheduleAtFixedRate(() -> tick(ms), ms, ms, TimeUnit.MILLISECONDS);
    }

    private synchronized void stopTicking() {
        if (ticks != null) {
            ticks.cancel(false);
        }
    }

    private void tick(long intervalMs) {
        long silentMs = (System.nanoTime() - lastHeardNanos) / 1_000_000;
        if (silentMs >= SILENT_INTERVALS * intervalMs) {
            String reason = "nothing from the control plane for " + silentMs + " ms";
            if (end.complete(new SessionEnd.Broken(reason, welcomed))) {
                outbox.cancel(stream(), reason);
            }
        } else if (welcomed) {
            outbox.heartbeat(stream(), DaemonMessage.newBuilder()
                    .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis()))
                    .build());
        }
    }

    private ClientCallStreamObserver<DaemonMessage> stream() {
        return requireNonNull(requests, "requests (set before the call starts)");
    }
}
