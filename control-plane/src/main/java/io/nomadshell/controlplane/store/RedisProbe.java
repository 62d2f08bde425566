package io.nomadshell.controlplane.store;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * One inline command to a Redis on a Unix socket, with a deadline, before any client exists: is it
 * up yet, and is somebody already there. Answers the reply's text (a status line, or a bulk string's
 * content), or empty when nobody answered in time.
 */
final class RedisProbe {
    private static final int MAX_REPLY = 64 * 1024;

    private RedisProbe() {}

    static Optional<String> ask(Path socket, String command, Duration timeout) {
        var deadline = System.nanoTime() + timeout.toNanos();
        try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                var selector = Selector.open()) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap((command + "\r\n").getBytes(StandardCharsets.US_ASCII)));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            var reply = ByteBuffer.allocate(MAX_REPLY);
            while (System.nanoTime() < deadline) {
                selector.select(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                selector.selectedKeys().clear();
                if (channel.read(reply) < 0) {
                    return Optional.empty();
                }
                var parsed = parse(new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8));
                if (parsed.isPresent() || !reply.hasRemaining()) {
                    return parsed;
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException nobody) {
            return Optional.empty();
        }
    }

    /** A whole reply, or empty while it is still arriving. */
    private static Optional<String> parse(String text) {
        var lineEnd = text.indexOf("\r\n");
        if (lineEnd < 0) {
            return Optional.empty();
        }
        if (!text.startsWith("$")) {
            return Optional.of(text.substring(0, lineEnd));
        }
        var length = Integer.parseInt(text.substring(1, lineEnd));
        var start = lineEnd + 2;
        if (length < 0 || text.length() < start + length) {
            return length < 0 ? Optional.of("") : Optional.empty();
        }
        return Optional.of(text.substring(start, start + length));
    }
}
