package io.nomadshell.daemon.egress;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.nomadshell.daemon.tunnel.SandboxTunnels;
import io.nomadshell.proto.tunnel.ByteTunnel;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelFrame;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The daemon's proxy and tunnels against a fake control plane in the test: it answers the
 * daemon's connects for {@code origin.test} and {@code echo.test} with real loopback servers, and
 * refuses every other host the way the real one does (close with a reason).
 */
class EgressProxyTest {
    private HttpServer origin;
    private ServerSocket echo;
    private final AtomicReference<String> seenByOrigin = new AtomicReference<>();
    private final FakeControlPlane controlPlane = new FakeControlPlane();
    private SandboxTunnels tunnels;
    private EgressProxy proxy;

    @BeforeEach
    void start() throws IOException {
        origin = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 10);
        origin.createContext("/", exchange -> {
            var headers = new StringBuilder();
            exchange.getRequestHeaders().forEach((name, values) -> headers.append(name.toLowerCase()).append('=')
                    .append(String.join(",", values)).append(';'));
            seenByOrigin.set(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + headers);
            var body = "hello from origin".getBytes(UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
        echo = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(() -> {
            while (!echo.isClosed()) {
                try {
                    var client = echo.accept();
                    Thread.ofVirtual().start(() -> {
                        try (client) {
                            client.getInputStream().transferTo(client.getOutputStream());
                        } catch (IOException ignored) {
                            // the test closed it
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        tunnels = new SandboxTunnels(controlPlane::fromDaemon);
        proxy = EgressProxy.start(0, tunnels::connect);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        tunnels.closeAll();
        origin.stop(0);
        echo.close();
    }

    @Test
    void connectAnswers200AndThenPipesBytesBothWays() throws Exception {
        try (var client = new Socket("127.0.0.1", proxy.port())) {
            client.setSoTimeout(10_000);
            send(client, "CONNECT echo.test:443 HTTP/1.1\r\nHost: echo.test:443\r\n\r\n");
            assertThat(readHead(client)).isEqualTo("HTTP/1.1 200 Connection established");

            send(client, "ping through the tunnel");
            var echoed = client.getInputStream().readNBytes("ping through the tunnel".length());
            assertThat(new String(echoed, UTF_8)).isEqualTo("ping through the tunnel");
        }
    }

    @Test
    void plainHttpGoesOnInOriginFormWithoutProxyHeaders() throws Exception {
        try (var client = new Socket("127.0.0.1", proxy.port())) {
            client.setSoTimeout(10_000);
            send(client, "GET http://origin.test/x/y?z=1 HTTP/1.1\r\nHost: elsewhere.test\r\n"
                    + "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic c2VjcmV0\r\nUser-Agent: t\r\n\r\n");
            var response = new String(client.getInputStream().readAllBytes(), UTF_8);

            assertThat(response).startsWith("HTTP/1.1 200").endsWith("hello from origin");
        }
        assertThat(seenByOrigin.get())
                .startsWith("GET /x/y?z=1 ")
                .contains("connection=close;")
                .contains("host=origin.test;")
                .contains("user-agent=t;")
                .doesNotContain("proxy-");
    }

    @Test
    void aRefusalIsA403ThatSaysWhyInItsStatusLineAndBody() throws Exception {
        try (var client = new Socket("127.0.0.1", proxy.port())) {
            client.setSoTimeout(10_000);
            send(client, "CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n");
            var response = new String(client.getInputStream().readAllBytes(), UTF_8);

            assertThat(response).startsWith("HTTP/1.1 403 egress to evil.test is not allowed for this job\r\n")
                    .endsWith("nomad-shell egress proxy: egress to evil.test is not allowed for this job\n");
        }
        assertThat(controlPlane.asked).containsKey("evil.test:443");
    }

    @Test
    void requestsItCannotCarryAre400s() throws Exception {
        try (var client = new Socket("127.0.0.1", proxy.port())) {
            client.setSoTimeout(10_000);
            send(client, "GET https://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n\r\n");
            var response = new String(client.getInputStream().readAllBytes(), UTF_8);

            assertThat(response).startsWith("HTTP/1.1 400 this proxy carries CONNECT host:port and absolute http:// URLs");
        }
        assertThat(controlPlane.asked).isEmpty();
    }

    @Test
    void toolsAreToldWhereTheProxyIs() {
        assertThat(EgressProxy.environment(3128))
                .containsEntry("HTTPS_PROXY", "http://127.0.0.1:3128")
                .containsEntry("http_proxy", "http://127.0.0.1:3128")
                .containsEntry("npm_config_https_proxy", "http://127.0.0.1:3128")
                .containsEntry("NO_PROXY", "localhost,127.0.0.1,::1");
    }

    private static void send(Socket client, String text) throws IOException {
        client.getOutputStream().write(text.getBytes(ISO_8859_1));
        client.getOutputStream().flush();
    }

    /** The status line, after reading the whole head. */
    private static String readHead(Socket client) throws IOException {
        var head = new StringBuilder();
        var in = client.getInputStream();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.substring(0, head.indexOf("\r\n"));
    }

    /** The control plane's side of the tunnels, with a fixed idea of which hosts exist. */
    private final class FakeControlPlane {
        final Map<String, Boolean> asked = new ConcurrentHashMap<>();
        private final Map<Long, ByteTunnel> open = new ConcurrentHashMap<>();

        void fromDaemon(TunnelFrame frame) {
            if (frame.hasConnect()) {
                var connect = frame.getConnect();
                asked.put(connect.getHost() + ":" + connect.getPort(), true);
                int port = switch (connect.getHost()) {
                    case "origin.test" -> origin.getAddress().getPort();
                    case "echo.test" -> echo.getLocalPort();
                    default -> -1;
                };
                long id = frame.getTunnelId();
                if (port < 0) {
                    tunnels.onFrame(TunnelFrame.newBuilder().setTunnelId(id).setClose(TunnelClose.newBuilder()
                            .setError("egress to " + connect.getHost() + " is not allowed for this job")).build());
                    return;
                }
                var tunnel = new ByteTunnel(id, connect.getWindow(), tunnels::onFrame, () -> open.remove(id));
                open.put(id, tunnel);
                Thread.ofVirtual().start(() -> {
                    try {
                        var socket = new Socket("127.0.0.1", port);
                        tunnel.sendOpened();
                        tunnel.pump(socket.getInputStream(), socket.getOutputStream(), socket);
                    } catch (IOException e) {
                        tunnel.end(e.getMessage());
                    }
                });
                return;
            }
            var tunnel = open.get(frame.getTunnelId());
            if (tunnel != null) {
                tunnel.onFrame(frame);
            }
        }
    }
}
