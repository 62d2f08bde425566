package io.nomadshell.daemon.tool;

import java.nio.charset.StandardCharsets;

/**
 * The combined output of a command, capped: the first {@value #HEAD} bytes and the last
 * {@value #TAIL} bytes are kept, and what lies between is counted, not stored. Thread-safe, so
 * the stdout and stderr readers append to one capture in the order they read.
 */
final class OutputCapture {

    static final int HEAD = 16 * 1024;
    static final int TAIL = 48 * 1024;

    private final byte[] head = new byte[HEAD];
    private final byte[] tail = new byte[TAIL];
    private int headLength;
    /** Bytes written to the tail ring; the next write goes to {@code tailWritten % TAIL}. */
    private long tailWritten;
    private boolean closed;

    /** Appends {@code length} bytes of {@code data}; returns false once the capture is closed. */
    synchronized boolean append(byte[] data, int length) {
        if (closed) {
            return false;
        }
        int offset = 0;
        int toHead = Math.min(length, HEAD - headLength);
        System.arraycopy(data, 0, head, headLength, toHead);
        headLength += toHead;
        offset += toHead;
        while (offset < length) {
            int position = (int) (tailWritten % TAIL);
            int n = Math.min(length - offset, TAIL - position);
            System.arraycopy(data, offset, tail, position, n);
            tailWritten += n;
            offset += n;
        }
        return true;
    }

    /** Stops accepting output: whatever still arrives belongs to no call. */
    synchronized void close() {
        closed = true;
    }

    synchronized boolean truncated() {
        return tailWritten > TAIL;
    }

    /**
     * The captured text; when output was dropped, a line {@code [... N bytes omitted ...]}
     * stands between head and tail. Bytes cut mid-character decode as U+FFFD.
     */
    synchronized String render() {
        if (!truncated()) {
            byte[] all = new byte[headLength + (int) tailWritten];
            System.arraycopy(head, 0, all, 0, headLength);
            System.arraycopy(tail, 0, all, headLength, (int) tailWritten);
            return new String(all, StandardCharsets.UTF_8);
        }
        int oldest = (int) (tailWritten % TAIL);
        byte[] lastBytes = new byte[TAIL];
        System.arraycopy(tail, oldest, lastBytes, 0, TAIL - oldest);
        System.arraycopy(tail, 0, lastBytes, TAIL - oldest, oldest);
        return new String(head, 0, headLength, StandardCharsets.UTF_8)
                + "\n[... " + (tailWritten - TAIL) + " bytes omitted ...]\n"
                + new String(lastBytes, StandardCharsets.UTF_8);
    }
}
