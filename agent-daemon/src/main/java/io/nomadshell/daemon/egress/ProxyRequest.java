package io.nomadshell.daemon.egress;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What a client asked the proxy for: a {@code CONNECT host:port} tunnel, or a plain HTTP request in
 * absolute form ({@code GET http://host/path HTTP/1.1}), which goes on in origin form.
 *
 * @param connect whether it is a CONNECT (a raw tunnel after the proxy's 200)
 * @param host the host to reach, without brackets
 * @param port the port to reach
 * @param forward for plain HTTP, the request head to send to the origin; empty for CONNECT
 */
record ProxyRequest(boolean connect, String host, int port, byte[] forward) {
    /** The longest request head the proxy reads, so a client cannot make it buffer without bound. */
    static final int MAX_HEAD_BYTES = 64 * 1024;

    ProxyRequest {
        requireNonNull(host, "host");
        requireNonNull(forward, "forward");
    }

    /** A request the proxy cannot carry; the message is for the client. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Reads one request head from {@code in} (up to the blank line, nothing after it); null when the
     * client closed before sending one.
     */
    static @Nullable ProxyRequest read(InputStream in) throws IOException, BadRequest {
        var lines = headLines(in);
        if (lines == null) {
            return null;
        }
        var parts = lines.getFirst().split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/")) {
            throw new BadRequest("not an HTTP request line: " + lines.getFirst());
        }
        var method = parts[0];
        if (method.equals("CONNECT")) {
            var target = Authority.parse(parts[1], -1);
            return new ProxyRequest(true, target.host(), target.port(), new byte[0]);
        }
        var url = parts[1];
        if (!url.regionMatches(true, 0, "http://", 0, 7)) {
            throw new BadRequest("this proxy carries CONNECT host:port and absolute http:// URLs, not '" + url
                    + "' (for https, let the client use CONNECT: set HTTPS_PROXY)");
        }
        int pathAt = indexOfAny(url, 7, "/?#");
        var authority = url.substring(7, pathAt);
        var path = pathAt == url.length() ? "/" : url.substring(pathAt);
        int fragment = path.indexOf('#');
        if (fragment >= 0) {
            path = path.substring(0, fragment);
        }
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        var target = Authority.parse(authority, 80);
        // The URL's authority is the Host (RFC 9112 3.2.2): the origin sees the host that was checked.
        var head = new StringBuilder(method).append(' ').append(path).append(' ').append(parts[2]).append("\r\n")
                .append("Host: ").append(authority.substring(authority.indexOf('@') + 1)).append("\r\n");
        for (var line : lines.subList(1, lines.size())) {
            var name = line.substring(0, Math.max(0, line.indexOf(':'))).strip().toLowerCase(Locale.ROOT);
            // Proxy-* is for this hop only; the connection is closed after one exchange.
            if (name.startsWith("proxy-") || name.equals("connection") || name.equals("keep-alive")
                    || name.equals("host")) {
                continue;
            }
            head.append(line).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        return new ProxyRequest(false, target.host(), target.port(), head.toString().getBytes(ISO_8859_1));
    }

    private static @Nullable List<String> headLines(InputStream in) throws IOException, BadRequest {
        var lines = new ArrayList<String>();
        var line = new StringBuilder();
        int total = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (total == 0) {
                    return null;
                }
                throw new BadRequest("the request head ended early");
            }
            if (++total > MAX_HEAD_BYTES) {
                throw new BadRequest("the request head is longer than " + MAX_HEAD_BYTES + " bytes");
            }
            if (b == '\n') {
                int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? line.length() - 1 : line.length();
                if (end == 0) {
                    if (lines.isEmpty()) {
                        continue; // Blank lines before a request line are allowed (RFC 9112).
                    }
                    return lines;
                }
                lines.add(line.substring(0, end));
                line.setLength(0);
            } else {
                line.append((char) b);
            }
        }
    }

    private static int indexOfAny(String text, int from, String chars) {
        for (int i = from; i < text.length(); i++) {
            if (chars.indexOf(text.charAt(i)) >= 0) {
                return i;
            }
        }
        return text.length();
    }

    /** {@code host[:port]} or {@code [v6]:port}, with user info dropped. */
    private record Authority(String host, int port) {
        static Authority parse(String text, int defaultPort) throws BadRequest {
            var rest = text.substring(text.indexOf('@') + 1);
            String host;
            String port = "";
            if (rest.startsWith("[")) {
                int close = rest.indexOf(']');
                if (close < 0) {
                    throw new BadRequest("not a host: " + text);
                }
                host = rest.substring(1, close);
                if (close + 1 < rest.length()) {
                    if (rest.charAt(close + 1) != ':') {
                        throw new BadRequest("not a host and port: " + text);
                    }
                    port = rest.substring(close + 2);
                }
            } else {
                int colon = rest.lastIndexOf(':');
                host = colon < 0 ? rest : rest.substring(0, colon);
                port = colon < 0 ? "" : rest.substring(colon + 1);
            }
            if (host.isEmpty()) {
                throw new BadRequest("no host in '" + text + "'");
            }
            if (port.isEmpty()) {
                if (defaultPort < 0) {
                    throw new BadRequest("CONNECT needs host:port, not '" + text + "'");
                }
                return new Authority(host, defaultPort);
            }
            try {
                int number = Integer.parseInt(port);
                if (number < 1 || number > 65535) {
                    throw new NumberFormatException();
                }
                return new Authority(host, number);
            } catch (NumberFormatException e) {
                throw new BadRequest("not a port: '" + port + "' in '" + text + "'");
            }
        }
    }
}
