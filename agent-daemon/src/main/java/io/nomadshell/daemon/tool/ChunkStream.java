package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * An output stream that sends what is written to it as chunks of at most {@code chunkBytes} each
 * (archive or bundle chunks, as {@code sink} sends them), counting the bytes and hashing them with
 * SHA-256 on the way. Only one chunk is ever held in memory.
 */
final class ChunkStream extends OutputStream {

    /** Sends one chunk: the first {@code length} bytes of {@code data}, which is reused afterwards. */
    interface Sink {
        void send(byte[] data, int length);
    }

    private final Sink sink;
    private final byte[] buffer;
    private final MessageDigest sha256;
    private int buffered;
    private long count;
    private boolean closed;

    ChunkStream(Sink sink, int chunkBytes) {
        this.sink = requireNonNull(sink, "sink");
        this.buffer = new byte[chunkBytes];
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] data, int offset, int length) {
        sha256.update(data, offset, length);
        count += length;
        while (length > 0) {
            int n = Math.min(length, buffer.length - buffered);
            System.arraycopy(data, offset, buffer, buffered, n);
            buffered += n;
            offset += n;
            length -= n;
            if (buffered == buffer.length) {
                emit();
            }
        }
    }

    /** Sends the last, partial chunk. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            emit();
        }
    }

    long count() {
        return count;
    }

    /** Lowercase hex SHA-256 of everything written; call once, after {@link #close()}. */
    String sha256Hex() {
        return HexFormat.of().formatHex(sha256.digest());
    }

    private void emit() {
        if (buffered > 0) {
            sink.send(buffer, buffered);
            buffered = 0;
        }
    }
}
