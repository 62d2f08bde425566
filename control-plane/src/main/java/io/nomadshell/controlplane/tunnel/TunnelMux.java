package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.proto.v1.TunnelFrame;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The tunnels on one daemon's Attach stream: gives out ids, routes frames, ends them all with the stream. */
final class TunnelMux {
    private final DaemonSession session;
    private final AtomicLong nextId = new AtomicLong();
    private final ConcurrentHashMap<Long, ChannelTunnel> open = new ConcurrentHashMap<>();

    TunnelMux(DaemonSession session) {
        this.session = requireNonNull(session, "session");
        session.onTunnelFrames(this::route);
        session.closed().whenComplete((ignored, error) -> open.values().forEach(ChannelTunnel::finish));
    }

    /** Tunnels {@code client} to {@code port} in the sandbox. */
    void open(int port, SocketChannel client) {
        long id = nextId.incrementAndGet();
        var tunnel = new ChannelTunnel(id, port, client, session::sendTunnel, () -> open.remove(id));
        open.put(id, tunnel);
        if (!session.isOpen()) {
            tunnel.finish();
            return;
        }
        tunnel.start();
    }

    int openCount() {
        return open.size();
    }

    private void route(TunnelFrame frame) {
        var tunnel = open.get(frame.getTunnelId());
        if (tunnel != null) {
            tunnel.onFrame(frame);
        }
    }
}
