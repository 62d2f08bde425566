package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.nomadshell.daemon.tool.ToolDispatcher;
import io.nomadshell.daemon.tunnel.SandboxTunnels;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's side of {@code SandboxService.Attach}: dials the control plane, says Hello with
 * the job token, and serves tool calls until told to shut down. A broken stream is redialed with
 * exponential backoff; a refused token or a control plane gone for too long ends the link.
 *
 * <p>Whatever the outcome, the processes the tools started are killed and the channel is closed
 * before {@link #run()} returns.
 */
public final class AttachClient {

    private static final Logger log = LoggerFactory.getLogger(AttachClient.class);
    /** A write_file call carries the whole file; gRPC's 4 MiB default is too small for that. */
    private static final int MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final String target;
    private final Hello hello;
    private final ToolDispatcher tools;
    private final LinkOptions options;
    private final Outbox outbox = new Outbox();
    private final SandboxTunnels tunnels =
            new SandboxTunnels(frame -> outbox.send(DaemonMessage.newBuilder().setTunnel(frame).build()));

    /**
     * A client for the control plane at {@code target} ({@code unix:///path} or {@code host:port}).
     * The token goes into the Hello and nowhere else.
     */
    public AttachClient(String target, String token, String daemonVersion, ToolDispatcher tools,
                        LinkOptions options) {
        this.target = requireNonNull(target, "target");
        this.hello = Hello.newBuilder()
                .setToken(requireNonNull(token, "token"))
                .setDaemonVersion(requireNonNull(daemonVersion, "daemonVersion"))
                .addAllTools(ToolDispatcher.TOOLS)
                .build();
        this.tools = requireNonNull(tools, "tools");
        this.options = requireNonNull(options, "options");
    }

    /**
     * The tunnels on whichever stream is attached (each stream's end ends them): the egress proxy
     * opens its connections out here.
     */
    public SandboxTunnels tunnels() {
        return tunnels;
    }

    /** Runs the link until it ends for good; blocks the calling thread. */
    public LinkOutcome run() throws InterruptedException {
        ManagedChannel channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
                .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .build();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("attach-heartbeat").daemon().factory());
        try {
            return serve(channel, timer);
        } finally {
            tools.stopAll();
            timer.shutdownNow();
            close(channel);
        }
    }

    private LinkOutcome serve(ManagedChannel channel, ScheduledExecutorService timer)
            throws InterruptedException {
        SandboxServiceGrpc.SandboxServiceStub stub = SandboxServiceGrpc.newStub(channel);
        ToolCalls calls = new ToolCalls(tools, outbox);
        Backoff backoff = new Backoff(options.initialBackoff(), options.maxBackoff());
        long unattachedSince = System.nanoTime();
        while (true) {
            SessionEnd end = new AttachSession(hello, outbox, calls, tunnels, timer, options.defaultHeartbeat())
                    .run(stub);
            switch (end) {
                case SessionEnd.Shutdown shutdown -> {
                    return new LinkOutcome.ShutdownRequested(shutdown.reason());
                }
                case SessionEnd.Rejected rejected -> {
                    return new LinkOutcome.Rejected(rejected.reason());
                }
                case SessionEnd.Broken broken -> {
                    if (broken.welcomed()) {
                        unattachedSince = System.nanoTime();
                        backoff.reset();
                    }
                    if (System.nanoTime() - unattachedSince >= options.giveUpAfter().toNanos()) {
                        return new LinkOutcome.GaveUp(broken.reason());
                    }
                    Duration pause = backoff.next();
                    log.warn("link to {} lost ({}); redialing in {} ms", target, broken.reason(), pause.toMillis());
                    Thread.sleep(pause);
                    // The channel has its own, slower reconnect backoff; ours decides when to try.
                    channel.resetConnectBackoff();
                }
            }
        }
    }

    private static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdown();
        if (!channel.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            channel.shutdownNow();
        }
    }
}
