package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelFrame;
import io.nomadshell.proto.v1.TunnelOpen;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tunnel, the control plane's end: a connection accepted on a port bridge, pumped to and from
 * the daemon as frames. Nothing is sent before the daemon says it connected; after that, at most
 * the credit the daemon granted is in flight, and credit goes back to it as its bytes are written.
 */
final class ChannelTunnel {
    private static final Logger log = LoggerFactory.getLogger(ChannelTunnel.class);
    static final int WINDOW = 256 * 1024;
    private static final int MAX_FRAME_BYTES = 32 * 1024;
    private static final ByteString END = ByteString.copyFromUtf8("end");

    private final long id;
    private final int port;
    private final SocketChannel channel;
    private final Consumer<TunnelFrame> out;
    private final Runnable onEnd;
    private final LinkedBlockingQueue<ByteString> inbound = new LinkedBlockingQueue<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final Object creditLock = new Object();
    private long credit;
    private long queuedBytes;

    ChannelTunnel(long id, int port, SocketChannel channel, Consumer<TunnelFrame> out, Runnable onEnd) {
        this.id = id;
        this.port = port;
        this.channel = requireNonNull(channel, "channel");
        this.out = requireNonNull(out, "out");
        this.onEnd = requireNonNull(onEnd, "onEnd");
    }

    /** Asks the daemon to connect and starts the pumps; returns at once. */
    void start() {
        out.accept(frame().setOpen(TunnelOpen.newBuilder().setPort(port).setWindow(WINDOW)).build());
        Thread.ofVirtual().name("tunnel-" + id + "-write").start(this::write);
        Thread.ofVirtual().name("tunnel-" + id + "-read").start(this::read);
    }

    void onFrame(TunnelFrame frame) {
        switch (frame.getKindCase()) {
            case OPENED -> grant(WINDOW);
            case CREDIT -> grant(frame.getCredit());
            case DATA -> onData(frame.getData());
            case CLOSE -> {
                if (!frame.getClose().getError().isEmpty()) {
                    log.debug("tunnel {} to port {} closed by the sandbox: {}", id, port, frame.getClose().getError());
                }
                finish();
            }
            case OPEN, KIND_NOT_SET -> {
                // Only the control plane opens.
            }
        }
    }

    /** Ends the tunnel from this side and tells the daemon. */
    void end(String error) {
        if (ended.compareAndSet(false, true)) {
            out.accept(frame().setClose(TunnelClose.newBuilder().setError(error)).build());
            inbound.add(END);
            closeChannel();
            onEnd.run();
        }
    }

    /** The daemon ended the tunnel (or the Attach stream went): write what is queued, then close. */
    void finish() {
        if (ended.compareAndSet(false, true)) {
            inbound.add(END);
            onEnd.run();
            synchronized (creditLock) {
                creditLock.notifyAll();
            }
        }
    }

    private void onData(ByteString data) {
        synchronized (creditLock) {
            queuedBytes += data.size();
            if (queuedBytes > WINDOW) {
                end("the sandbox sent more than its window");
                return;
            }
        }
        inbound.add(data);
    }

    private void grant(int bytes) {
        synchronized (creditLock) {
            credit += bytes;
            creditLock.notifyAll();
        }
    }

    private void read() {
        var buffer = new byte[MAX_FRAME_BYTES];
        // Not closed here: when the daemon ends the tunnel, the writer still has bytes to deliver,
        // and it closes the channel once they are written.
        var in = Channels.newInputStream(channel);
        try {
            while (!ended.get()) {
                int allowed = awaitCredit();
                if (allowed <= 0) {
                    return;
                }
                int read = in.read(buffer, 0, Math.min(allowed, buffer.length));
                if (read < 0) {
                    end("");
                    return;
                }
                synchronized (creditLock) {
                    credit -= read;
                }
                out.accept(frame().setData(ByteString.copyFrom(buffer, 0, read)).build());
            }
        } catch (IOException e) {
            end("");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            end("");
        }
    }

    private int awaitCredit() throws InterruptedException {
        synchronized (creditLock) {
            while (credit <= 0 && !ended.get()) {
                creditLock.wait(1_000);
            }
            return ended.get() ? 0 : (int) Math.min(credit, Integer.MAX_VALUE);
        }
    }

    private void write() {
        var outStream = Channels.newOutputStream(channel);
        try {
            while (true) {
                var data = inbound.take();
                if (data == END) {
                    break;
                }
                data.writeTo(outStream);
                synchronized (creditLock) {
                    queuedBytes -= data.size();
                }
                out.accept(frame().setCredit(data.size()).build());
            }
        } catch (IOException e) {
            end("the client of the tunnel went away");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeChannel();
        }
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Best effort: the client sees the end either way.
        }
    }

    private TunnelFrame.Builder frame() {
        return TunnelFrame.newBuilder().setTunnelId(id);
    }
}
