package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 POST to a callback, over a connection this class makes to an address that was checked
 * ({@link WebhookAddresses}), so no second lookup decides where it goes; https with the URL's host for
 * SNI and certificate checks. Redirects are not followed. Only the status line is read.
 */
final class WebhookPost {
    private static final int MAX_STATUS_LINE = 1024;

    private final Duration connectTimeout;
    private final Duration readTimeout;

    WebhookPost(Duration connectTimeout, Duration readTimeout) {
        this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
        this.readTimeout = requireNonNull(readTimeout, "readTimeout");
    }

    /**
     * POSTs {@code body} (JSON) to {@code url} at the first of {@code addresses} that connects.
     *
     * @return the receiver's HTTP status
     * @throws IOException when no connection could be made or no status came back in time
     */
    int send(CallbackUrl url, List<InetAddress> addresses, Map<String, String> headers, byte[] body) throws IOException {
        IOException last = null;
        for (var address : addresses) {
            Socket socket;
            try {
                socket = connect(url, address);
            } catch (IOException e) {
                last = e;
                continue;
            }
            try (socket) {
                return exchange(socket, url, headers, body);
            }
        }
        throw last != null ? last : new IOException("no address to connect to");
    }

    private Socket connect(CallbackUrl url, InetAddress address) throws IOException {
        var plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(address, url.port()), (int) connectTimeout.toMillis());
            plain.setSoTimeout((int) readTimeout.toMillis());
            if (!url.https()) {
                return plain;
            }
            var tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault())
                    .createSocket(plain, url.host(), url.port(), true);
            var parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            if (!url.host().contains(":") && !url.host().matches("[0-9.]+")) {
                parameters.setServerNames(List.of(new SNIHostName(url.host())));
            }
            tls.setSSLParameters(parameters);
            tls.startHandshake();
            return tls;
        } catch (IOException e) {
            plain.close();
            throw e;
        }
    }

    private static int exchange(Socket socket, CallbackUrl url, Map<String, String> headers, byte[] body)
            throws IOException {
        var head = new StringBuilder()
                .append("POST ").append(url.target()).append(" HTTP/1.1\r\n")
                .append("Host: ").append(url.authority()).append("\r\n")
                .append("User-Agent: nomad-shell-webhook\r\n")
                .append("Content-Type: application/json\r\n")
                .append("Content-Length: ").append(body.length).append("\r\n")
                .append("Connection: close\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("\r\n");
        OutputStream out = socket.getOutputStream();
        out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return status(new BufferedInputStream(socket.getInputStream()));
    }

    /** The code in the status line ({@code HTTP/1.1 204 No Content}). */
    private static int status(InputStream in) throws IOException {
        var line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (line.length() >= MAX_STATUS_LINE) {
                throw new IOException("the receiver's status line is too long");
            }
            line.append((char) b);
        }
        var parts = line.toString().strip().split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException(line.isEmpty() ? "the receiver closed the connection without an answer"
                    : "the receiver's answer is not HTTP");
        }
        try {
            return Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IOException("the receiver's answer has no status code");
        }
    }
}
