package io.nomadshell.cli;

import java.net.InetSocketAddress;

/** {@code HOST:PORT} flags ({@code [v6]:port} too), refused in words naming the flag. */
final class HostPorts {
    private HostPorts() {}

    static InetSocketAddress parse(String flag, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new UserError(flag + " must be HOST:PORT, not '" + value + "'");
        }
        var host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UserError(flag + " must be HOST:PORT, not '" + value + "'");
        }
        if (port < 0 || port > 65535) {
            throw new UserError(flag + "'s port must be between 0 and 65535, not " + port);
        }
        return new InetSocketAddress(host, port);
    }
}
