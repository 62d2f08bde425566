package io.nomadshell.daemon.egress;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.tunnel.ByteTunnel;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's HTTP proxy on {@code 127.0.0.1}: for {@code CONNECT host:port} it answers {@code 200
 * Connection established} and pipes bytes; for a plain {@code http://} request it sends the request
 * on in origin form (Proxy-* headers dropped, {@code Connection: close}) and pipes the answer back.
 * Either way the connection out is a tunnel the control plane opened after checking the job's
 * egress policy; when it refuses, the client gets a {@code 403} whose status line and body say why,
 * so curl, pip and npm show the reason.
 */
public final class EgressProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EgressProxy.class);
    /** Bounds a client that connects and sends no request. */
    private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(30);
    /** Above the control plane's own bound (name resolution plus a few connection attempts). */
    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(60);

    private final ServerSocket server;
    private final Connector connector;

    /** How the proxy gets a connection out: the Attach stream's tunnels outside tests. */
    @FunctionalInterface
    public interface Connector {
        /** A tunnel to {@code host:port} being opened; its {@link ByteTunnel#opened()} says how that went. */
        ByteTunnel connect(String host, int port);
    }

    private EgressProxy(ServerSocket server, Connector connector) {
        this.server = server;
        this.connector = connector;
    }

    /** Listens on {@code 127.0.0.1:port} (0: any free port) and serves until closed. */
    public static EgressProxy start(int port, Connector connector) throws IOException {
        requireNonNull(connector, "connector");
        var server = new ServerSocket(port, 64, InetAddress.getByName("127.0.0.1"));
        var proxy = new EgressProxy(server, connector);
        Thread.ofVirtual().name("egress-proxy").start(proxy::accept);
        return proxy;
    }

    public int port() {
        return server.getLocalPort();
    }

    /**
     * The environment that points tool processes at a proxy on {@code port}: the variables curl,
     * pip, git, Python's and Node's HTTP clients read, and npm's own; loopback stays direct.
     */
    public static Map<String, String> environment(int port) {
        var url = "http://127.0.0.1:" + port;
        var noProxy = "localhost,127.0.0.1,::1";
        var env = new LinkedHashMap<String, String>();
        for (var name : new String[] {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                "npm_config_proxy", "npm_config_https_proxy"}) {
            env.put(name, url);
        }
        env.put("NO_PROXY", noProxy);
        env.put("no_proxy", noProxy);
        env.put("npm_config_noproxy", noProxy);
        return Map.copyOf(env);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                var client = server.accept();
                Thread.ofVirtual().name("egress-client").start(() -> serve(client));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    log.warn("the egress proxy stopped accepting: {}", e.toString());
                }
                return;
            }
        }
    }

    private void serve(Socket client) {
        try {
            client.setSoTimeout((int) HEAD_TIMEOUT.toMillis());
            var in = new BufferedInputStream(client.getInputStream());
            var out = client.getOutputStream();
            ProxyRequest request;
            try {
                request = ProxyRequest.read(in);
            } catch (ProxyRequest.BadRequest e) {
                answer(client, 400, e.getMessage());
                return;
            }
            if (request == null) {
                client.close();
                return;
            }
            client.setSoTimeout(0);
            var tunnel = connector.connect(request.host(), request.port());
            var refusal = awaitOpened(tunnel);
            if (!refusal.isEmpty()) {
                answer(client, 403, refusal);
                return;
            }
            InputStream upstream = in;
            if (request.connect()) {
                out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(ISO_8859_1));
                out.flush();
            } else {
                upstream = new SequenceInputStream(new ByteArrayInputStream(request.forward()), in);
            }
            tunnel.pump(upstream, out, client);
        } catch (SocketTimeoutException e) {
            closeQuietly(client);
        } catch (IOException e) {
            log.debug("egress proxy client: {}", e.toString());
            closeQuietly(client);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(client);
        }
    }

    /** Empty once the tunnel is open; otherwise why it is not (and it is ended). */
    private static String awaitOpened(ByteTunnel tunnel) throws InterruptedException {
        try {
            return tunnel.opened().get(OPEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            var why = "the control plane did not answer within " + OPEN_TIMEOUT.toSeconds() + " s";
            tunnel.end(why);
            return why;
        } catch (ExecutionException e) {
            throw new IllegalStateException("opened() never completes exceptionally", e);
        }
    }

    /** Answers with {@code status}, its reason phrase the message itself, and closes. */
    private static void answer(Socket client, int status, String message) throws IOException {
        // A reason phrase is one line of visible ASCII.
        var phrase = message.replaceAll("[^\\x20-\\x7e]", "?");
        var body = ("nomad-shell egress proxy: " + message + "\n").getBytes(UTF_8);
        OutputStream out = client.getOutputStream();
        out.write(("HTTP/1.1 " + status + " " + phrase + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n\r\n").getBytes(ISO_8859_1));
        out.write(body);
        out.flush();
        client.close();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Gone either way.
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
