package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.HostPattern;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * One entry of {@code --webhook-allow-hosts}: a host ({@link HostPattern}: a name, {@code *.name}, an
 * IP literal) and a port; without a port, the URL scheme's own (80, 443). A loopback, private or
 * otherwise special address is reached only through an entry that names that address itself, never
 * through a name that resolves to it.
 *
 * @param port 0 for the scheme's default port
 */
public record AllowedHost(HostPattern host, int port) {
    public AllowedHost {
        requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not between 1 and 65535");
        }
    }

    /** Parses {@code host}, {@code host:port}, {@code [v6]:port}. */
    public static AllowedHost parse(String text) {
        var entry = requireNonNull(text, "text").strip();
        var host = entry;
        int port = 0;
        int colon = entry.lastIndexOf(':');
        boolean bracketed = entry.startsWith("[");
        if (colon > 0 && (bracketed ? entry.lastIndexOf(']') < colon : entry.indexOf(':') == colon)) {
            host = entry.substring(0, colon);
            try {
                port = Integer.parseInt(entry.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' has no valid port");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("'" + text + "' has no valid port");
            }
        }
        return new AllowedHost(HostPattern.parse(host), port);
    }

    /** Whether a URL to {@code host} on {@code port} (whose scheme's port is {@code defaultPort}) is allowed. */
    public boolean allows(String host, int port, int defaultPort) {
        return this.host.matches(host) && port == (this.port == 0 ? defaultPort : this.port);
    }

    /** The address this entry names literally (an IP), if it does. */
    public Optional<InetAddress> literal() {
        var text = host.text();
        if (!text.contains(":") && !text.matches("[0-9.]+")) {
            return Optional.empty();
        }
        try {
            // A literal only: getByName parses it and asks no resolver.
            return Optional.of(InetAddress.getByName(text.contains(":") ? "[" + text + "]" : text));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        var name = host.text().contains(":") ? "[" + host.text() + "]" : host.text();
        return port == 0 ? name : name + ":" + port;
    }
}
