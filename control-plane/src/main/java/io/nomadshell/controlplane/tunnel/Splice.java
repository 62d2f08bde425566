package io.nomadshell.controlplane.tunnel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Joins two connections: what either reads goes to the other, an end of input is passed on as a
 * half close, and both close once both directions are done (or either fails). Virtual threads, one
 * a direction; a slow reader holds up its writer, as TCP does.
 */
final class Splice {
    private static final int CHUNK = 64 * 1024;

    private Splice() {}

    static void join(SocketChannel a, SocketChannel b, String name) {
        var running = new AtomicInteger(2);
        Thread.ofVirtual().name(name + "-out").start(() -> copy(a, b, running));
        Thread.ofVirtual().name(name + "-in").start(() -> copy(b, a, running));
    }

    private static void copy(SocketChannel from, SocketChannel to, AtomicInteger running) {
        var buffer = ByteBuffer.allocate(CHUNK);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
            to.shutdownOutput();
            if (running.decrementAndGet() > 0) {
                return;
            }
        } catch (IOException e) {
            // Either side went away: the whole connection ends.
        }
        closeQuietly(from);
        closeQuietly(to);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // It is gone either way.
        }
    }
}
