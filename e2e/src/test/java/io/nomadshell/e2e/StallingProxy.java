package io.nomadshell.e2e;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Between a control plane and Redis, Unix socket to Unix socket: passes bytes both ways until stalled,
 * then holds them, as a network partition does (connections stay open, nothing arrives), until resumed.
 */
final class StallingProxy implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path socket;
    private final Path target;
    private final Object gate = new Object();
    private boolean stalled; // guarded by gate
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
    private final List<Thread> pumps = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    private StallingProxy(ServerSocketChannel server, Path socket, Path target) {
        this.server = server;
        this.socket = socket;
        this.target = target;
        this.acceptor = Thread.ofVirtual().name("stalling-proxy").start(this::accept);
    }

    static StallingProxy start(Path socket, Path target) throws IOException {
        Files.deleteIfExists(socket);
        var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return new StallingProxy(server, socket, target);
    }

    /** For lettuce, like the embedded Redis's own. */
    String url() {
        return "redis-socket://" + socket;
    }

    void stall() {
        synchronized (gate) {
            stalled = true;
        }
    }

    void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    /**
     * Waits until every connection passed on all it was sent and closed (its client went away): what
     * the client sent before it left has reached Redis.
     */
    void awaitDrained(Duration timeout) throws InterruptedException {
        var deadline = System.nanoTime() + timeout.toNanos();
        for (var pump : pumps) {
            if (!pump.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                throw new IllegalStateException("a connection through the proxy is still open after " + timeout);
            }
        }
    }

    private void accept() {
        while (server.isOpen()) {
            try {
                var client = server.accept();
                var redis = SocketChannel.open(UnixDomainSocketAddress.of(target));
                open.add(client);
                open.add(redis);
                pumps.add(Thread.ofVirtual().start(() -> pump(client, redis)));
                pumps.add(Thread.ofVirtual().start(() -> pump(redis, client)));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(SocketChannel from, SocketChannel to) {
        var buffer = ByteBuffer.allocate(64 * 1024);
        try (from; to) {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                awaitOpen();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
        } catch (IOException | InterruptedException e) {
            // One side went away (or the proxy closed): the other is closed with it.
        }
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (stalled) {
                gate.wait();
            }
        }
    }

    @Override
    public void close() throws IOException {
        resume();
        server.close();
        acceptor.interrupt();
        for (var channel : open) {
            channel.close();
        }
        Files.deleteIfExists(socket);
    }
}
