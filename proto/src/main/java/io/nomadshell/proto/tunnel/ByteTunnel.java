package io.nomadshell.proto.tunnel;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelFrame;
import io.nomadshell.proto.v1.TunnelOpened;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One tunnel on the Attach stream, either end: bytes read from a local connection go out as data
 * frames while the peer has granted credit; data frames coming in are written to the connection by
 * a writer thread, which grants the credit back once they are written. The opener starts with no
 * credit and gets the window when the peer says {@code opened}, or at once ({@link #sendEarly()})
 * when the peer keeps a window for the tunnel from the moment it reads the open; the side that was
 * asked gets the same window when it says {@code opened} ({@link #sendOpened()}). Either way each
 * side holds at most a window of the other's bytes, however slowly its connection reads. Opening
 * (which frame, which id) is the multiplexer's business on each side; this class is what comes after.
 *
 * <p>Frames are large ({@value #MAX_FRAME_BYTES} bytes at most) and the window holds several of
 * them, so a bulk transfer pays the per-message costs of the Attach stream rarely and never waits
 * for credit while the far end keeps reading.
 */
public final class ByteTunnel {
    /** Set in the ids of tunnels the daemon opens; clear in those the control plane opens. */
    public static final long DAEMON_OPENED = 1L << 63;
    /** The largest window either side accepts, so a peer cannot make it buffer without bound. */
    public static final int MAX_WINDOW = 4 * 1024 * 1024;
    /**
     * The window port tunnels ask for: eight full frames, enough to keep a transfer going while
     * credit comes back across the Attach stream (a few ms on a busy host).
     */
    public static final int WINDOW = 2 * 1024 * 1024;

    private static final int MAX_FRAME_BYTES = 256 * 1024;
    private static final ByteString END = ByteString.copyFromUtf8("end");

    private final long id;
    private final int window;
    private final Consumer<TunnelFrame> out;
    private final Runnable onEnd;
    private final LinkedBlockingQueue<ByteString> inbound = new LinkedBlockingQueue<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final CompletableFuture<String> opened = new CompletableFuture<>();
    private final Object creditLock = new Object();
    private long credit;
    /** Whether this side has its first window to send already (once only, or it would overrun the peer). */
    private boolean windowGranted;
    private long queuedBytes;
    private volatile @Nullable Closeable connection;
    /** Ended by this side ({@link #end}): nothing more is delivered. */
    private volatile boolean endedHere;

    /**
     * A tunnel whose frames to the peer go to {@code out} (which may block for room) and which runs
     * {@code onEnd} once when it ends, from either side.
     */
    public ByteTunnel(long id, int window, Consumer<TunnelFrame> out, Runnable onEnd) {
        if (window < 1 || window > MAX_WINDOW) {
            throw new IllegalArgumentException("the window must be 1-" + MAX_WINDOW + " bytes, not " + window);
        }
        this.id = id;
        this.window = window;
        this.out = requireNonNull(out, "out");
        this.onEnd = requireNonNull(onEnd, "onEnd");
    }

    public long id() {
        return id;
    }

    /**
     * For the opener: completes with an empty string when the peer says {@code opened}, or with the
     * peer's reason when the tunnel closed first.
     */
    public CompletableFuture<String> opened() {
        return opened;
    }

    /** For the side that was asked: tells the opener it is connected; from now on data may flow. */
    public void sendOpened() {
        grantWindow();
        out.accept(frame().setOpened(TunnelOpened.getDefaultInstance()).build());
    }

    /**
     * For an opener whose peer queues what comes before it has connected (a port tunnel into the
     * sandbox): the first window may go at once, with the open, rather than a round trip later. If
     * the peer cannot connect, it closes the tunnel and drops what it queued.
     */
    public void sendEarly() {
        grantWindow();
    }

    /** A frame for this tunnel from the peer (open and connect are the multiplexer's). */
    public void onFrame(TunnelFrame frame) {
        switch (frame.getKindCase()) {
            case OPENED -> {
                grantWindow();
                opened.complete("");
            }
            case CREDIT -> grant(frame.getCredit());
            case DATA -> onData(frame.getData());
            case CLOSE -> closedByPeer(frame.getClose().getError());
            case OPEN, CONNECT, KIND_NOT_SET -> {
                // Opening is not this class's business; an unknown kind is from a newer peer.
            }
        }
    }

    /**
     * Pumps between the tunnel and a local connection on virtual threads: reads {@code from},
     * writes {@code to}, and closes {@code connection} when the tunnel ends. Returns at once.
     */
    public void pump(InputStream from, OutputStream to, Closeable connection) {
        requireNonNull(from, "from");
        requireNonNull(to, "to");
        this.connection = requireNonNull(connection, "connection");
        if (endedHere) {
            closeConnection();
            return;
        }
        // Even when the peer has closed already, what it sent before is delivered (then END closes).
        Thread.ofVirtual().name("tunnel-" + Long.toHexString(id) + "-write").start(() -> write(to));
        if (!ended.get()) {
            Thread.ofVirtual().name("tunnel-" + Long.toHexString(id) + "-read").start(() -> read(from));
        }
    }

    /** Ends the tunnel from this side, telling the peer why (empty: it simply ended). */
    public void end(String error) {
        requireNonNull(error, "error");
        if (ended.compareAndSet(false, true)) {
            endedHere = true;
            out.accept(frame().setClose(TunnelClose.newBuilder().setError(error)).build());
            opened.complete(error.isEmpty() ? "the tunnel was closed" : error);
            inbound.add(END);
            closeConnection();
            onEnd.run();
            wakeReader();
        }
    }

    /**
     * The peer closed the tunnel, or the Attach stream went: what is queued is still written, then
     * the connection closes.
     */
    public void closedByPeer(String error) {
        requireNonNull(error, "error");
        if (ended.compareAndSet(false, true)) {
            opened.complete(error.isEmpty() ? "the tunnel was closed" : error);
            inbound.add(END);
            onEnd.run();
            wakeReader();
        }
    }

    private void onData(ByteString data) {
        synchronized (creditLock) {
            queuedBytes += data.size();
            if (queuedBytes > window) {
                // The peer ignored its credit: refuse rather than buffer without bound.
                end("the peer sent more than its window");
                return;
            }
        }
        inbound.add(data);
    }

    private void grantWindow() {
        synchronized (creditLock) {
            if (!windowGranted) {
                windowGranted = true;
                grant(window);
            }
        }
    }

    private void grant(int bytes) {
        synchronized (creditLock) {
            credit += bytes;
            creditLock.notifyAll();
        }
    }

    private void wakeReader() {
        synchronized (creditLock) {
            creditLock.notifyAll();
        }
    }

    private void read(InputStream from) {
        var buffer = new byte[MAX_FRAME_BYTES];
        try {
            while (!ended.get()) {
                int allowed = awaitCredit();
                if (allowed <= 0) {
                    return;
                }
                int read = from.read(buffer, 0, Math.min(allowed, buffer.length));
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
            end(ended.get() ? "" : "the connection broke: " + e.getMessage());
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

    private void write(OutputStream to) {
        try {
            while (true) {
                var data = inbound.take();
                if (data == END) {
                    break;
                }
                data.writeTo(to);
                to.flush();
                synchronized (creditLock) {
                    queuedBytes -= data.size();
                }
                out.accept(frame().setCredit(data.size()).build());
            }
        } catch (IOException e) {
            end("the connection broke: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeConnection();
            wakeReader();
        }
    }

    private void closeConnection() {
        var open = connection;
        if (open != null) {
            try {
                open.close();
            } catch (IOException ignored) {
                // Best effort: the other end sees the end either way.
            }
        }
    }

    private TunnelFrame.Builder frame() {
        return TunnelFrame.newBuilder().setTunnelId(id);
    }
}
