package io.nomadshell.daemon.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.tunnel.ByteTunnel;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelConnect;
import io.nomadshell.proto.v1.TunnelFrame;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The tunnels on the Attach stream, by id, both ways: connects to {@code 127.0.0.1:port} in the
 * sandbox when the control plane opens a tunnel, asks the control plane to connect out for the
 * egress proxy ({@link #connect}, ids with {@link ByteTunnel#DAEMON_OPENED} set), routes the frames
 * that follow, and ends them all when a stream ends.
 */
public final class SandboxTunnels {
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    /**
     * The window of an egress connection: smaller than a port tunnel's, as up to 128 of them may be
     * open at once and what a slow reader leaves queued sits in the daemon's small heap.
     */
    static final int EGRESS_WINDOW = 256 * 1024;

    private final Consumer<TunnelFrame> out;
    private final AtomicLong nextId = new AtomicLong();
    private final ConcurrentHashMap<Long, ByteTunnel> open = new ConcurrentHashMap<>();

    /** Tunnels whose frames to the control plane go to {@code out} (which may block for room). */
    public SandboxTunnels(Consumer<TunnelFrame> out) {
        this.out = requireNonNull(out, "out");
    }

    /**
     * A frame from the control plane. Data for a tunnel being opened is queued (up to its window)
     * while the connection inside the sandbox is made: the control plane sends it with the open.
     */
    public void onFrame(TunnelFrame frame) {
        long id = frame.getTunnelId();
        switch (frame.getKindCase()) {
            case OPEN -> open(id, frame.getOpen().getPort(), frame.getOpen().getWindow());
            case CONNECT -> refuse(id, "only the sandbox asks to connect out");
            default -> {
                var tunnel = open.get(id);
                if (tunnel != null) {
                    tunnel.onFrame(frame);
                }
            }
        }
    }

    /**
     * Asks the control plane for a connection to {@code host:port} outside the sandbox. The tunnel's
     * {@link ByteTunnel#opened()} says whether it was made (or why not); then {@link ByteTunnel#pump} it.
     */
    public ByteTunnel connect(String host, int port) {
        requireNonNull(host, "host");
        long id = nextId.incrementAndGet() | ByteTunnel.DAEMON_OPENED;
        var tunnel = new ByteTunnel(id, EGRESS_WINDOW, out, () -> open.remove(id));
        open.put(id, tunnel);
        out.accept(TunnelFrame.newBuilder().setTunnelId(id).setConnect(TunnelConnect.newBuilder()
                .setHost(host).setPort(port).setWindow(EGRESS_WINDOW)).build());
        return tunnel;
    }

    /** The Attach stream ended: every tunnel ends with it. */
    public void closeAll() {
        open.values().forEach(tunnel -> tunnel.end("the sandbox's connection to the control plane ended"));
    }

    private void open(long id, int port, int window) {
        if ((id & ByteTunnel.DAEMON_OPENED) != 0 || port < 1 || port > 65535
                || window < 1 || window > ByteTunnel.MAX_WINDOW) {
            refuse(id, "port must be 1-65535, window 1-" + ByteTunnel.MAX_WINDOW
                    + " and the tunnel id's high bit clear (ids with it set are the daemon's)");
            return;
        }
        var tunnel = new ByteTunnel(id, window, out, () -> open.remove(id));
        if (open.putIfAbsent(id, tunnel) != null) {
            return;
        }
        Thread.ofVirtual().name("tunnel-" + id + "-connect").start(() -> {
            var socket = new Socket();
            try {
                // Frames are written whole, as they come: Nagle's delay would only hold the last piece back.
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress("127.0.0.1", port), CONNECT_TIMEOUT_MS);
                tunnel.sendOpened();
                tunnel.pump(socket.getInputStream(), socket.getOutputStream(), socket);
            } catch (IOException e) {
                tunnel.end("nothing accepts connections on port " + port + " in the sandbox (" + e.getMessage() + ")");
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // It never connected.
                }
            }
        });
    }

    private void refuse(long id, String why) {
        out.accept(TunnelFrame.newBuilder().setTunnelId(id).setClose(TunnelClose.newBuilder().setError(why)).build());
    }
}
