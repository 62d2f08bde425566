package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private Unix socket whose every connection is tunneled to one port inside one sandbox (over its
 * Attach stream here, or through the replica that holds it). Any client that speaks to a socket (an
 * HTTP client, a WebSocket client, a port-forward pump) reaches the sandbox port through it.
 */
final class PortBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PortBridge.class);

    private final Path path;
    private final ServerSocketChannel server;

    private PortBridge(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
    }

    /** A bridge at {@code path} that hands each connection to {@code carrier}, which carries it on. */
    static PortBridge open(Path path, Consumer<SocketChannel> carrier) throws IOException {
        requireNonNull(carrier, "carrier");
        var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(requireNonNull(path, "path")));
        var bridge = new PortBridge(path, server);
        Thread.ofVirtual().name("bridge-" + path.getFileName()).start(() -> bridge.accept(carrier));
        return bridge;
    }

    Path path() {
        return path;
    }

    private void accept(Consumer<SocketChannel> carrier) {
        while (server.isOpen()) {
            try {
                carrier.accept(server.accept());
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("port bridge {} stopped accepting: {}", path, e.toString());
                }
                return;
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.debug("could not remove port bridge {}: {}", path, e.toString());
        }
    }
}
