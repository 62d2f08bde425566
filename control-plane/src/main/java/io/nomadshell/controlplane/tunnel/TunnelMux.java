package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.egress.EgressRefusedException;
import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.proto.tunnel.ByteTunnel;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelConnect;
import io.nomadshell.proto.v1.TunnelFrame;
import io.nomadshell.proto.v1.TunnelOpen;
import java.io.IOException;
import java.net.Socket;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tunnels on one daemon's Attach stream, both ways: opens tunnels into the sandbox (ids with the
 * high bit clear), carries out the daemon's egress connects through the {@link EgressDialer} (ids
 * with it set), routes frames, and ends them all with the stream.
 */
final class TunnelMux {
    /** Connections out one sandbox may have open (or being opened) at once. */
    static final int MAX_EGRESS = 128;

    private final DaemonSession session;
    private final EgressDialer egress;
    private final AtomicLong nextId = new AtomicLong();
    private final ConcurrentHashMap<Long, ByteTunnel> open = new ConcurrentHashMap<>();

    TunnelMux(DaemonSession session, EgressDialer egress) {
        this.session = requireNonNull(session, "session");
        this.egress = requireNonNull(egress, "egress");
        session.onTunnelFrames(this::route);
        session.closed().whenComplete((ignored, error) -> open.values().forEach(tunnel -> tunnel.closedByPeer("")));
    }

    /** Tunnels {@code client} to {@code port} in the sandbox. */
    void open(int port, SocketChannel client) {
        long id = nextId.incrementAndGet() & ~ByteTunnel.DAEMON_OPENED;
        var tunnel = register(id, ByteTunnel.WINDOW);
        if (!session.isOpen()) {
            tunnel.closedByPeer("");
            tunnel.pump(Channels.newInputStream(client), Channels.newOutputStream(client), client);
            return;
        }
        session.sendTunnel(TunnelFrame.newBuilder().setTunnelId(id)
                .setOpen(TunnelOpen.newBuilder().setPort(port).setWindow(ByteTunnel.WINDOW)).build());
        // The daemon queues a window's worth while it connects: the client's first bytes go with the open.
        tunnel.sendEarly();
        tunnel.pump(Channels.newInputStream(client), Channels.newOutputStream(client), client);
    }

    int openCount() {
        return open.size();
    }

    private ByteTunnel register(long id, int window) {
        var tunnel = new ByteTunnel(id, window, session::sendTunnel, () -> open.remove(id));
        open.put(id, tunnel);
        return tunnel;
    }

    private void route(TunnelFrame frame) {
        if (frame.hasConnect()) {
            connect(frame.getTunnelId(), frame.getConnect());
            return;
        }
        var tunnel = open.get(frame.getTunnelId());
        if (tunnel != null) {
            tunnel.onFrame(frame);
        }
    }

    /** The daemon's proxy asks for a connection out: decide and dial off the stream's thread. */
    private void connect(long id, TunnelConnect ask) {
        if ((id & ByteTunnel.DAEMON_OPENED) == 0 || open.containsKey(id)
                || ask.getWindow() < 1 || ask.getWindow() > ByteTunnel.MAX_WINDOW) {
            session.sendTunnel(TunnelFrame.newBuilder().setTunnelId(id).setClose(TunnelClose.newBuilder()
                    .setError("a connect needs a fresh daemon tunnel id and a window of 1-" + ByteTunnel.MAX_WINDOW))
                    .build());
            return;
        }
        if (open.keySet().stream().filter(tunnelId -> (tunnelId & ByteTunnel.DAEMON_OPENED) != 0).count() >= MAX_EGRESS) {
            session.sendTunnel(TunnelFrame.newBuilder().setTunnelId(id).setClose(TunnelClose.newBuilder()
                    .setError("this sandbox has " + MAX_EGRESS + " connections out open already; close some first"))
                    .build());
            return;
        }
        var tunnel = register(id, ask.getWindow());
        Thread.ofVirtual().name("egress-" + Long.toHexString(id)).start(() -> {
            Socket socket;
            try {
                socket = egress.connect(session.jobId(), ask.getHost(), ask.getPort());
            } catch (EgressRefusedException e) {
                tunnel.end(e.getMessage());
                return;
            }
            try {
                tunnel.sendOpened();
                tunnel.pump(socket.getInputStream(), socket.getOutputStream(), socket);
            } catch (IOException e) {
                tunnel.end("the connection to " + ask.getHost() + " broke: " + e.getMessage());
                closeQuietly(socket);
            }
        });
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // It is gone either way.
        }
    }
}
