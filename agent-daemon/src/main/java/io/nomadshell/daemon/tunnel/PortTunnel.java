package io.nomadshell.daemon.tunnel;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelFrame;
import io.nomadshell.proto.v1.TunnelOpened;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tunnel: a TCP connection to {@code 127.0.0.1:port} in the sandbox. Bytes read from it go out
 * as data frames while the control plane has granted credit; data frames coming in are written to it
 * by a writer thread, which grants the credit back once they are written.
 */
final class PortTunnel {
    private static final Logger log = LoggerFactory.getLogger(PortTunnel.class);
    private static final int MAX_FRAME_BYTES = 32 * 1024;
    private static final ByteString END = ByteString.copyFromUtf8("end");

    private final long id;
    private final int port;
    private final int window;
    private final Consumer<TunnelFrame> out;
    private final Runnable onEnd;
    private final LinkedBlockingQueue<ByteString> inbound = new LinkedBlockingQueue<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final Object creditLock = new Object();
    private long credit;
    private long queuedBytes;
    private volatile Socket socket = new Socket();

    PortTunnel(long id, int port, int window, Consumer<TunnelFrame> out, Runnable onEnd) {
        this.id = id;
        this.port = port;
        this.window = window;
        this.out = requireNonNull(out, "out");
        this.onEnd = requireNonNull(onEnd, "onEnd");
        this.credit = window;
    }

    /** Connects and pumps on virtual threads; returns at once. */
    void start() {
        Thread.ofVirtual().name("tunnel-" + id + "-read").start(this::connectAndRead);
    }

    void onData(ByteString data) {
        synchronized (creditLock) {
            queuedBytes += data.size();
            if (queuedBytes > window) {
                // The peer ignored its credit: refuse rather than buffer without bound.
                end("the control plane sent more than its window");
                return;
            }
        }
        inbound.add(data);
    }

    void onCredit(int bytes) {
        synchronized (creditLock) {
            credit += bytes;
            creditLock.notifyAll();
        }
    }

    /** The control plane closed the tunnel: write what is queued, then close the connection. */
    void onClose() {
        if (ended.compareAndSet(false, true)) {
            inbound.add(END);
            onEnd.run();
        }
    }

    /** Ends the tunnel from this side, telling the control plane why (empty: it simply ended). */
    void end(String error) {
        if (ended.compareAndSet(false, true)) {
            out.accept(frame().setClose(TunnelClose.newBuilder().setError(error)).build());
            inbound.add(END);
            closeSocket();
            onEnd.run();
        }
    }

    private void connectAndRead() {
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        } catch (IOException e) {
            end("nothing accepts connections on port " + port + " in the sandbox (" + e.getMessage() + ")");
            return;
        }
        out.accept(frame().setOpened(TunnelOpened.getDefaultInstance()).build());
        Thread.ofVirtual().name("tunnel-" + id + "-write").start(this::write);
        var buffer = new byte[MAX_FRAME_BYTES];
        try {
            // Not closed here (closing a socket's stream closes the socket): when the control plane
            // ends the tunnel, the writer still has bytes to deliver, and it closes the socket after.
            var in = socket.getInputStream();
            while (!ended.get()) {
                int allowed = awaitCredit();
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
        } catch (IOException | InterruptedException e) {
            end(ended.get() ? "" : "the connection in the sandbox broke: " + e.getMessage());
        }
    }

    private int awaitCredit() throws InterruptedException {
        synchronized (creditLock) {
            while (credit <= 0 && !ended.get()) {
                creditLock.wait(1_000);
            }
            return (int) Math.min(credit, Integer.MAX_VALUE);
        }
    }

    private void write() {
        try {
            var outStream = socket.getOutputStream();
            while (true) {
                var data = inbound.take();
                if (data == END) {
                    break;
                }
                data.writeTo(outStream);
                outStream.flush();
                synchronized (creditLock) {
                    queuedBytes -= data.size();
                }
                out.accept(frame().setCredit(data.size()).build());
            }
        } catch (IOException e) {
            log.debug("tunnel {}: write failed: {}", id, e.toString());
            end("the connection in the sandbox broke: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeSocket();
            synchronized (creditLock) {
                creditLock.notifyAll();
            }
        }
    }

    private void closeSocket() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is best effort; the peer sees the end either way.
        }
    }

    private TunnelFrame.Builder frame() {
        return TunnelFrame.newBuilder().setTunnelId(id);
    }
}
