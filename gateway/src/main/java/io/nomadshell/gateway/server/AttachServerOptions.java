package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Where sandboxes attach, and how much the listener may hold.
 *
 * @param socket the Unix socket mounted into sandboxes (plaintext: it never leaves the host)
 * @param listen a TCP address for sandboxes on other hosts, served only over TLS; null for none
 * @param tls the certificate for {@code listen}; required with it
 * @param maxConnections the most connections the listener holds at once (socket and TCP together); more
 *     are closed as soon as they are accepted, so a sandbox opening connections in a loop cannot use up
 *     the server's file descriptors. Far below the process's limit, far above the sandboxes one control
 *     plane runs (each daemon holds one).
 * @param idleTimeout how long a connection without a request in flight is kept; a daemon's Attach stream is
 *     a request in flight for as long as its job runs, so only connections that carry none are closed
 */
public record AttachServerOptions(Path socket, @Nullable InetSocketAddress listen, @Nullable AttachTls tls,
        int maxConnections, Duration idleTimeout) {
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(10);

    public AttachServerOptions {
        requireNonNull(socket, "socket");
        requireNonNull(idleTimeout, "idleTimeout");
        if (listen != null && tls == null) {
            throw new IllegalArgumentException("Attach over TCP needs a TLS certificate: it is never served in plaintext");
        }
        if (maxConnections <= 0) {
            throw new IllegalArgumentException("maxConnections must be positive, not " + maxConnections);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be positive, not " + idleTimeout);
        }
    }

    /** With the default bounds. */
    public AttachServerOptions(Path socket, @Nullable InetSocketAddress listen, @Nullable AttachTls tls) {
        this(socket, listen, tls, DEFAULT_MAX_CONNECTIONS, DEFAULT_IDLE_TIMEOUT);
    }

    /** Only the Unix socket. */
    public static AttachServerOptions socketOnly(Path socket) {
        return new AttachServerOptions(socket, null, null);
    }

    public AttachServerOptions withMaxConnections(int maxConnections) {
        return new AttachServerOptions(socket, listen, tls, maxConnections, idleTimeout);
    }

    public AttachServerOptions withIdleTimeout(Duration idleTimeout) {
        return new AttachServerOptions(socket, listen, tls, maxConnections, idleTimeout);
    }
}
