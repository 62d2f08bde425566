package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.stream.StreamWriter;

/**
 * One SSE client's outbound text under flow control: at most one write in flight (until the client's
 * connection took it, {@link StreamWriter#whenConsumed()}) and at most {@link #MAX_PENDING} characters
 * waiting behind it, so a slow client holds a small window of memory. What waits goes out as one
 * write once the last one was taken: a client that keeps up gets each event at once, one that lags
 * gets the events it missed together, in one write rather than one each.
 */
final class SseBatches {
    static final int MAX_PENDING = 64 * 1024;
    private static final long RECHECK_MILLIS = 1_000;

    private final StreamWriter<HttpData> writer;
    private final StringBuilder pending = new StringBuilder();
    private boolean inFlight;

    SseBatches(StreamWriter<HttpData> writer) {
        this.writer = requireNonNull(writer, "writer");
    }

    /** Queues {@code text}, first waiting while the window is full; false once the client has gone. */
    synchronized boolean add(String text) throws InterruptedException {
        while (pending.length() >= MAX_PENDING && writer.isOpen()) {
            wait(RECHECK_MILLIS);
        }
        if (!writer.isOpen()) {
            return false;
        }
        pending.append(text);
        if (!inFlight) {
            flush();
        }
        return true;
    }

    /** Adds what is left without waiting (a comment, the end) unless the window is full; never blocks. */
    synchronized void offer(String text) {
        if (pending.length() < MAX_PENDING) {
            pending.append(text);
            if (!inFlight) {
                flush();
            }
        }
    }

    /** Sends what waits, then ends the stream. */
    synchronized void close(String last) {
        pending.append(last);
        writer.tryWrite(HttpData.ofUtf8(pending.toString()));
        pending.setLength(0);
        writer.close();
    }

    private void flush() {
        if (pending.isEmpty()) {
            return;
        }
        var data = HttpData.ofUtf8(pending.toString());
        pending.setLength(0);
        if (writer.tryWrite(data)) {
            inFlight = true;
            writer.whenConsumed().handle((ignored, error) -> {
                consumed();
                return null;
            });
        }
    }

    private synchronized void consumed() {
        inFlight = false;
        flush();
        notifyAll();
    }
}
