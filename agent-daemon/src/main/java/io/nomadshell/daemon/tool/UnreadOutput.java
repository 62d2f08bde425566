package io.nomadshell.daemon.tool;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What a background process wrote and nobody has read yet, capped at {@value #CAPACITY} bytes:
 * when full, the oldest unread bytes are dropped and counted. A reader can wait for new output.
 */
final class UnreadOutput {

    static final int CAPACITY = 256 * 1024;

    private byte[] buffer = new byte[0];
    private long dropped;
    private boolean ended;

    /** Text read and the bytes dropped before it since the previous read. */
    record Read(String text, long dropped) {}

    synchronized void append(byte[] data, int length) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream(buffer.length + length);
        joined.write(buffer, 0, buffer.length);
        joined.write(data, 0, length);
        byte[] all = joined.toByteArray();
        int excess = all.length - CAPACITY;
        if (excess > 0) {
            dropped += excess;
            byte[] kept = new byte[CAPACITY];
            System.arraycopy(all, excess, kept, 0, CAPACITY);
            all = kept;
        }
        buffer = all;
        notifyAll();
    }

    /** No more output will come (the process's pipes are closed). */
    synchronized void end() {
        ended = true;
        notifyAll();
    }

    synchronized boolean ended() {
        return ended;
    }

    /** Waits up to {@code wait} for the end of the output. */
    synchronized void awaitEnd(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * Takes everything unread, first waiting up to {@code wait} for something to arrive when
     * nothing is there yet and output may still come.
     */
    synchronized Read take(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (buffer.length == 0 && !ended) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        Read read = new Read(new String(buffer, StandardCharsets.UTF_8), dropped);
        buffer = new byte[0];
        dropped = 0;
        return read;
    }
}
