package io.nomadshell.daemon.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelFrame;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The tunnels of one Attach stream, by id: opens a {@link PortTunnel} when the control plane asks,
 * routes the frames that follow, and closes them all when the stream ends.
 */
public final class SandboxTunnels {
    private static final int MAX_WINDOW = 4 * 1024 * 1024;

    private final Consumer<TunnelFrame> out;
    private final ConcurrentHashMap<Long, PortTunnel> open = new ConcurrentHashMap<>();

    /** Tunnels whose frames to the control plane go to {@code out} (which may block for room). */
    public SandboxTunnels(Consumer<TunnelFrame> out) {
        this.out = requireNonNull(out, "out");
    }

    public void onFrame(TunnelFrame frame) {
        long id = frame.getTunnelId();
        switch (frame.getKindCase()) {
            case OPEN -> open(id, frame.getOpen().getPort(), frame.getOpen().getWindow());
            case DATA -> {
                var tunnel = open.get(id);
                if (tunnel != null) {
                    tunnel.onData(frame.getData());
                }
            }
            case CREDIT -> {
                var tunnel = open.get(id);
                if (tunnel != null) {
                    tunnel.onCredit(frame.getCredit());
                }
            }
            case CLOSE -> {
                var tunnel = open.get(id);
                if (tunnel != null) {
                    tunnel.onClose();
                }
            }
            case OPENED, KIND_NOT_SET -> {
                // Only the daemon says opened; an unknown kind is from a newer control plane.
            }
        }
    }

    /** The Attach stream ended: every tunnel ends with it. */
    public void closeAll() {
        open.values().forEach(tunnel -> tunnel.end("the sandbox's connection to the control plane ended"));
    }

    private void open(long id, int port, int window) {
        if (port < 1 || port > 65535 || window < 1 || window > MAX_WINDOW) {
            out.accept(TunnelFrame.newBuilder().setTunnelId(id)
                    .setClose(TunnelClose.newBuilder().setError("port must be 1-65535 and window 1-" + MAX_WINDOW))
                    .build());
            return;
        }
        var tunnel = new PortTunnel(id, port, window, out, () -> open.remove(id));
        if (open.putIfAbsent(id, tunnel) == null) {
            tunnel.start();
        }
    }
}
