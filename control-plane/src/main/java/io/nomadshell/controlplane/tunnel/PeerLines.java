package io.nomadshell.controlplane.tunnel;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The one line each side of a replica-to-replica connection sends before the bytes it carries: read
 * a byte at a time, so that nothing after the line is taken from the stream, within a time limit.
 */
final class PeerLines {
    /** Longer than any request or answer; a peer sending more is not one of ours. */
    private static final int MAX = 2048;

    private PeerLines() {}

    static void write(SocketChannel channel, String line) throws IOException {
        var buffer = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * The next line on {@code channel} (a blocking one), without its newline.
     *
     * @throws SocketTimeoutException when it takes longer than {@code timeout}
     */
    static String read(SocketChannel channel, Duration timeout) throws IOException {
        var socket = channel.socket();
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        var in = socket.getInputStream();
        var line = new ByteArrayOutputStream();
        while (line.size() < MAX) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the connection ended before a whole line");
            }
            if (b == '\n') {
                socket.setSoTimeout(0);
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(b);
        }
        throw new IOException("a line longer than " + MAX + " bytes");
    }
}
