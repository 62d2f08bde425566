package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.proto.v1.EnsureServiceAction;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The way into a port of a job's sandbox, from any replica: {@link #bridge} gives a Unix socket whose
 * connections are tunneled over the job's Attach stream when it is attached here, else carried to the
 * replica that holds it ({@link PeerClient}; that replica serves them from its {@link PeerListener}).
 * Bridges to sandboxes here live as long as the stream they ride on; those to sandboxes elsewhere
 * until they have been idle a while. {@link #ensureService} starts a service (desktop, Jupyter) in
 * the sandbox before a user opens it. Ownership is the caller's to check. In the other direction,
 * every attached stream's egress connects go to the {@link EgressDialer}.
 */
public final class JobTunnels implements AutoCloseable {
    /** Starting the desktop or Jupyter Server the first time takes seconds, on a busy host tens of them. */
    static final Duration ENSURE_TIMEOUT = Duration.ofSeconds(90);
    /** A bridge to a sandbox on another replica that nobody asked for this long is closed. */
    private static final Duration REMOTE_IDLE = Duration.ofMinutes(10);
    private final SessionRegistry sessions;
    private final JupyterTokens jupyterTokens;
    private final EgressDialer egress;
    private final Path directory;
    private final AtomicLong nextSocket = new AtomicLong();
    private final AtomicLong nextCall = new AtomicLong();
    private final ConcurrentHashMap<DaemonSession, TunnelMux> muxes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<BridgeKey, PortBridge> bridges = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<RemoteKey, RemoteBridge> remoteBridges = new ConcurrentHashMap<>();
    private final PeerClient peers;

    /**
     * Bridges' sockets go in a fresh private directory (mode 700), removed on {@link #close()}; the
     * daemons' egress connects go to {@code egress}; sandboxes held elsewhere are reached through {@code peering}.
     */
    public JobTunnels(SessionRegistry sessions, JupyterTokens jupyterTokens, EgressDialer egress, Peering peering)
            throws IOException {
        this.sessions = requireNonNull(sessions, "sessions");
        this.peers = requireNonNull(peering, "peering").client();
        this.jupyterTokens = requireNonNull(jupyterTokens, "jupyterTokens");
        this.egress = requireNonNull(egress, "egress");
        // Short and private: Unix socket paths are limited to about 100 bytes, and only this process may connect.
        this.directory = Files.createTempDirectory("nomad-shell-tunnels");
    }

    /**
     * A Unix socket that reaches {@code 127.0.0.1:port} in the job's sandbox, wherever it is attached.
     *
     * @throws JobException UNAVAILABLE when the job's sandbox is attached to no replica that answers
     */
    public Path bridge(String jobId, int port) {
        requireNonNull(jobId, "jobId");
        checkPort(port);
        var here = sessions.current(jobId);
        if (here.isPresent()) {
            return bridges.computeIfAbsent(new BridgeKey(here.get(), port), this::openBridge).path();
        }
        forgetIdleRemoteBridges();
        var key = new RemoteKey(jobId, port, peers.holderOf(jobId));
        var remote = remoteBridges.computeIfAbsent(key, this::openRemoteBridge);
        remote.lastUsed = System.nanoTime();
        return remote.bridge.path();
    }

    /**
     * What carries a connection to {@code port} of a sandbox attached here, for another replica: never
     * to a sandbox elsewhere, so a request crosses at most one replica.
     *
     * @throws JobException UNAVAILABLE when the job's sandbox is not attached here
     */
    Consumer<SocketChannel> carrierHere(String jobId, int port) {
        checkPort(port);
        var mux = mux(session(jobId));
        return client -> mux.open(port, client);
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new JobException(Reason.INVALID_ARGUMENT, "the port must be between 1 and 65535, not " + port);
        }
    }

    /**
     * Makes sure {@code service} ({@code desktop} or {@code jupyter}) runs in the job's sandbox,
     * starting it if not, and returns the sandbox port it answers on. Blocks for up to a minute and
     * a half the first time; the daemon answers at once when it runs already.
     *
     * @throws JobException UNAVAILABLE when the job's sandbox is not attached here, or the service
     *     cannot start there
     */
    public int ensureService(String jobId, String service) throws InterruptedException {
        requireNonNull(jobId, "jobId");
        requireNonNull(service, "service");
        if (sessions.current(jobId).isEmpty()) {
            return peers.ensureService(peers.holderOf(jobId), jobId, service, ENSURE_TIMEOUT);
        }
        return ensureServiceHere(jobId, service);
    }

    /** {@link #ensureService} in a sandbox attached here, never elsewhere. */
    int ensureServiceHere(String jobId, String service) throws InterruptedException {
        var call = ToolCall.newBuilder()
                .setCallId("svc-" + nextCall.incrementAndGet())
                .setEnsureService(EnsureServiceAction.newBuilder().setService(service))
                .build();
        ToolResult result;
        try {
            result = session(jobId).call(call, event -> {}).get(ENSURE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new JobException(Reason.UNAVAILABLE, "the " + service + " of job " + jobId
                    + " did not start within " + ENSURE_TIMEOUT.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new JobException(Reason.UNAVAILABLE, "the sandbox of job " + jobId
                    + " went away while starting its " + service);
        }
        if (!result.getError().isEmpty()) {
            throw new JobException(Reason.UNAVAILABLE, "the " + service + " of job " + jobId
                    + " could not start: " + result.getError());
        }
        return result.getEnsureService().getPort();
    }

    /** The token job {@code jobId}'s Jupyter Server demands; a proxy in front of it adds it. */
    public String jupyterToken(String jobId) {
        return jupyterTokens.of(jobId);
    }

    private DaemonSession session(String jobId) {
        return sessions.current(jobId).orElseThrow(() -> new JobException(Reason.UNAVAILABLE,
                "job " + jobId + " has no sandbox attached to this control plane (it has not started, has ended, "
                        + "or is being taken over)"));
    }

    /** Tunnels open now, over all sandboxes. */
    public int openTunnels() {
        return muxes.values().stream().mapToInt(TunnelMux::openCount).sum();
    }

    /** Serves the tunnels of a newly attached stream (its daemon may open egress tunnels at once). */
    public void attached(DaemonSession session) {
        mux(requireNonNull(session, "session"));
    }

    private TunnelMux mux(DaemonSession session) {
        return muxes.computeIfAbsent(session, attached -> {
            // Async: the stream may have ended already, and forget() must not run inside computeIfAbsent.
            attached.closed().whenCompleteAsync((ignored, error) -> forget(attached));
            return new TunnelMux(attached, egress);
        });
    }

    private PortBridge openBridge(BridgeKey key) {
        var mux = mux(key.session());
        return openBridge(client -> mux.open(key.port(), client));
    }

    private RemoteBridge openRemoteBridge(RemoteKey key) {
        // The holder's answer takes a round trip: one connection waiting on it holds up no other.
        return new RemoteBridge(openBridge(client -> Thread.ofVirtual().name("peer-carry").start(
                () -> peers.carry(key.holder(), key.jobId(), key.port(), client))));
    }

    private PortBridge openBridge(Consumer<SocketChannel> carrier) {
        try {
            return PortBridge.open(directory.resolve(nextSocket.incrementAndGet() + ".sock"), carrier);
        } catch (IOException e) {
            throw new UncheckedIOException("could not open a port bridge", e);
        }
    }

    /** Bridges to sandboxes elsewhere end when idle (their connections go on): their jobs end unseen from here. */
    private void forgetIdleRemoteBridges() {
        long now = System.nanoTime();
        remoteBridges.entrySet().removeIf(entry -> {
            if (now - entry.getValue().lastUsed > REMOTE_IDLE.toNanos()) {
                entry.getValue().bridge.close();
                return true;
            }
            return false;
        });
    }

    private void forget(DaemonSession session) {
        muxes.remove(session);
        bridges.entrySet().removeIf(entry -> {
            if (entry.getKey().session() == session) {
                entry.getValue().close();
                return true;
            }
            return false;
        });
    }

    @Override
    public void close() throws IOException {
        bridges.values().forEach(PortBridge::close);
        bridges.clear();
        remoteBridges.values().forEach(remote -> remote.bridge.close());
        remoteBridges.clear();
        try (var paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }

    private record BridgeKey(DaemonSession session, int port) {}

    /** A bridge to a port of a sandbox on {@code holder}: a new holder (after a failover) gets a new bridge. */
    private record RemoteKey(String jobId, int port, PeerClient.Holder holder) {}

    private static final class RemoteBridge {
        final PortBridge bridge;
        volatile long lastUsed = System.nanoTime();

        RemoteBridge(PortBridge bridge) {
            this.bridge = bridge;
        }
    }
}
