package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Where sandboxes attach.
 *
 * @param socket the Unix socket mounted into sandboxes (plaintext: it never leaves the host)
 * @param listen a TCP address for sandboxes on other hosts, served only over TLS; null for none
 * @param tls the certificate for {@code listen}; required with it
 */
public record AttachServerOptions(Path socket, @Nullable InetSocketAddress listen, @Nullable AttachTls tls) {
    public AttachServerOptions {
        requireNonNull(socket, "socket");
        if (listen != null && tls == null) {
            throw new IllegalArgumentException("Attach over TCP needs a TLS certificate: it is never served in plaintext");
        }
    }

    /** Only the Unix socket. */
    public static AttachServerOptions socketOnly(Path socket) {
        return new AttachServerOptions(socket, null, null);
    }
}
