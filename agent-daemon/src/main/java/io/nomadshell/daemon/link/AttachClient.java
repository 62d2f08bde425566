package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.nomadshell.daemon.tool.ToolDispatcher;
import io.nomadshell.daemon.tunnel.SandboxTunnels;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's side of {@code SandboxService.Attach}: dials the control plane (a Unix socket, or TLS
 * over TCP), presents its {@link AttachCredential} in the call's metadata, says Hello, and serves tool
 * calls until told to shut down. A broken stream (ALREADY_EXISTS included: the control plane has not
 * yet dropped the stream that broke) is redialed with exponential backoff and the latest resume secret;
 * a refused credential or a control plane gone for too long ends the link.
 *
 * <p>Given several addresses (one per control-plane replica), each redial goes to the next one: when
 * the replica driving the job dies or loses its lease, another takes the job over and lets the daemon
 * in, while a replica that does not drive the job refuses it (FAILED_PRECONDITION), a break like any.
 *
 * <p>Whatever the outcome, the processes the tools started are killed and the channel is closed
 * before {@link #run()} returns.
 */
public final class AttachClient {

    private static final Logger log = LoggerFactory.getLogger(AttachClient.class);
    /** A write_file call carries the whole file; gRPC's 4 MiB default is too small for that. */
    private static final int MAX_INBOUND_MESSAGE_BYTES = 64 * 1024 * 1024;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    private final List<String> targets;
    private final @Nullable Path trustedCa;
    private final AttachCredential credential;
    private final Hello hello;
    private final ToolDispatcher tools;
    private final LinkOptions options;
    private final Outbox outbox = new Outbox();
    private final SandboxTunnels tunnels =
            new SandboxTunnels(frame -> outbox.send(DaemonMessage.newBuilder().setTunnel(frame).build()));

    /**
     * A client for the control plane at {@code targets}, tried in turn: {@code unix:///path} in
     * plaintext, anything else ({@code host:port}) over TLS, trusting {@code trustedCa} (a PEM file)
     * or, when null, the system's certificate authorities.
     */
    public AttachClient(List<String> targets, @Nullable Path trustedCa, AttachCredential credential,
                        String daemonVersion, ToolDispatcher tools, LinkOptions options) {
        this.targets = List.copyOf(requireNonNull(targets, "targets"));
        if (this.targets.isEmpty()) {
            throw new IllegalArgumentException("no Attach address");
        }
        this.trustedCa = trustedCa;
        this.credential = requireNonNull(credential, "credential");
        this.hello = Hello.newBuilder()
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
        var channels = new ArrayList<ManagedChannel>();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("attach-heartbeat").daemon().factory());
        try {
            for (String target : targets) {
                ChannelCredentials channelCredentials;
                try {
                    channelCredentials = channelCredentials(target, trustedCa);
                } catch (IOException e) {
                    return new LinkOutcome.GaveUp("the Attach CA certificate " + trustedCa + " cannot be read: "
                            + e.getMessage(), Duration.ZERO);
                }
                channels.add(Grpc.newChannelBuilder(target, channelCredentials)
                        .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                        .build());
            }
            return serve(channels, timer);
        } finally {
            tools.stopAll();
            timer.shutdownNow();
            for (ManagedChannel channel : channels) {
                close(channel);
            }
        }
    }

    private LinkOutcome serve(List<ManagedChannel> channels, ScheduledExecutorService timer)
            throws InterruptedException {
        ToolCalls calls = new ToolCalls(tools, outbox);
        Backoff backoff = new Backoff(options.initialBackoff(), options.maxBackoff());
        long unattachedSince = System.nanoTime();
        Duration giveUpAfter = options.giveUpAfter();
        int next = 0;
        while (true) {
            int current = next;
            ManagedChannel channel = channels.get(current);
            var session = new AttachSession(hello, credential, outbox, calls, tunnels, timer, options.defaultHeartbeat());
            SessionEnd end = session.run(SandboxServiceGrpc.newStub(channel));
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
                        giveUpAfter = session.reattachWindow(giveUpAfter);
                    }
                    if (System.nanoTime() - unattachedSince >= giveUpAfter.toNanos()) {
                        return new LinkOutcome.GaveUp(broken.reason(), giveUpAfter);
                    }
                    next = (current + 1) % channels.size();
                    Duration pause = backoff.next();
                    log.warn("link to {} lost ({}); dialing {} in {} ms", targets.get(current), broken.reason(),
                            targets.get(next), pause.toMillis());
                    Thread.sleep(pause);
                    // The channel has its own, slower reconnect backoff; ours decides when to try.
                    channels.get(next).resetConnectBackoff();
                }
            }
        }
    }

    /** Plaintext only on a Unix socket, which never leaves the host; TCP is always TLS. */
    static ChannelCredentials channelCredentials(String target, @Nullable Path trustedCa) throws IOException {
        if (target.startsWith("unix:")) {
            return InsecureChannelCredentials.create();
        }
        var tls = TlsChannelCredentials.newBuilder();
        if (trustedCa != null) {
            tls.trustManager(trustedCa.toFile());
        }
        return tls.build();
    }

    private static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdown();
        if (!channel.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            channel.shutdownNow();
        }
    }
}
