package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.artifact.KeptFile;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SocketChannel;

/**
 * A file another replica is sending from its artifact store, read as it arrives: TCP's window is the
 * flow control, so a slow reader here slows the sender there and nothing is buffered whole. It is one
 * stream, readable once; a stream that ends before {@link #bytes()} fails, so a file cut short (its
 * sender died) is never taken for a whole one.
 */
public final class CarriedFile implements KeptFiles.Found {
    private final long bytes;
    private final SocketChannel channel;
    private final String from;
    private final KeptFile file;

    CarriedFile(long bytes, SocketChannel channel, String from, KeptFile file) {
        this.bytes = bytes;
        this.channel = requireNonNull(channel, "channel");
        this.from = requireNonNull(from, "from");
        this.file = requireNonNull(file, "file");
    }

    /** Its length, as its sender said. */
    public long bytes() {
        return bytes;
    }

    /** The replica sending it. */
    public String from() {
        return from;
    }

    @Override
    public InputStream open() throws IOException {
        var in = channel.socket().getInputStream();
        return new InputStream() {
            private long left = bytes;

            @Override
            public int read() throws IOException {
                var one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (left == 0) {
                    return -1;
                }
                int read = in.read(buffer, offset, (int) Math.min(length, left));
                if (read < 0) {
                    throw new EOFException(file.words() + " stopped arriving from control plane " + from + " after "
                            + (bytes - left) + " of " + bytes + " bytes");
                }
                left -= read;
                return read;
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
