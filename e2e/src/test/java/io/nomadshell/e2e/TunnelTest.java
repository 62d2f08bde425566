package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.websocket.WebSocketClient;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketFrameType;
import io.nomadshell.cli.PortForwarder;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tunnels over Attach: servers started inside a sandbox (HTTP on 18080, a WebSocket echo on 18081,
 * loopback only, no network) answer from outside through the proxy path and through port-forward.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelTest {
    private static final String KEY = "tunnel-key";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String marker = "marker-" + UUID.randomUUID();
    private ScriptedModelServer model;
    private TestCluster cluster;
    private String jobId;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("serve-ports", dataDir, marker)).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2, ApiKeys.of(Set.of(KEY, "other-key")));
        jobId = cluster.rest(KEY).schedule("Serve a page and a WebSocket echo");
        cluster.rest(KEY).awaitStatus(jobId, Set.of("running"), Duration.ofSeconds(60));
        awaitServing();
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            if (jobId != null) cluster.rest(KEY).post("/v1/jobs/" + jobId + ":cancel", "application/json", "{}");
            cluster.close();
        }
        if (model != null) model.close();
    }

    @Test
    void httpThroughTheProxyPath() throws Exception {
        var page = get(proxy(18080, "/hello.txt"), "Bearer " + KEY);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(new String(page.body())).isEqualTo("hello through the tunnel " + marker + "\n");

        // 5 MB: many windows' worth, so credit must flow back for it to arrive whole and in order.
        var big = get(proxy(18080, "/big.bin"), "Bearer " + KEY);
        assertThat(big.statusCode()).isEqualTo(200);
        assertThat(big.body()).isEqualTo(bigFile());
    }

    @Test
    void theSandboxSeesThePathButNeverTheCredentials() throws Exception {
        var viaPorts = get(proxy(18888, "/a/b?x=1"), "Bearer " + KEY);
        assertThat(new String(viaPorts.body())).as("the ports prefix is stripped").isEqualTo("/a/b?x=1\n\n");

        var token = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links", "application/json", "{}"))
                .path("token").asText();
        var viaLink = send(HttpRequest.newBuilder(URI.create(proxy(18888, "/api/status?x=1&token=" + token)))
                .header("Cookie", "_xsrf=abc").GET());
        assertThat(viaLink.statusCode()).isEqualTo(200);
        assertThat(new String(viaLink.body())).as("link and key stay out").isEqualTo("/api/status?x=1\n\n_xsrf=abc");
        var linkCookie = viaLink.headers().firstValue("set-cookie").orElseThrow();
        var viaCookie = send(HttpRequest.newBuilder(URI.create(proxy(18888, "/lab")))
                .header("Cookie", linkCookie.substring(0, linkCookie.indexOf(';')) + "; _xsrf=abc").GET());
        assertThat(new String(viaCookie.body())).isEqualTo("/lab\n\n_xsrf=abc");
    }

    @Test
    void aPortWithNothingListeningIsABadGateway() {
        var response = get(proxy(18999, "/"), "Bearer " + KEY);
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(new String(response.body())).contains("nothing answered on port 18999 in the sandbox");
        assertThat(get(proxy(0, "/"), "Bearer " + KEY).statusCode()).as("port 0").isEqualTo(400);
    }

    @Test
    void httpThroughPortForward() throws Exception {
        try (var forwarder = PortForwarder.start("127.0.0.1:" + cluster.port(), KEY, jobId, 18080, 0, System.err)) {
            var url = "http://127.0.0.1:" + forwarder.localPort();
            var page = get(url + "/hello.txt", null);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(new String(page.body())).isEqualTo("hello through the tunnel " + marker + "\n");
            assertThat(get(url + "/big.bin", null).body()).isEqualTo(bigFile());
        }
    }

    @Test
    void httpThroughTheCliPortForwardCommand(@TempDir Path temp) throws Exception {
        int local;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            local = socket.getLocalPort();
        }
        var err = temp.resolve("port-forward.err");
        var process = Cli.start(err, "port-forward", "--server", "127.0.0.1:" + cluster.port(), "--api-key", KEY,
                jobId, "18080", Integer.toString(local));
        try {
            var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!(Files.exists(err) && Files.readString(err).contains("Forwarding"))) {
                assertThat(process.isAlive()).as("port-forward is running: %s",
                        Files.exists(err) ? Files.readString(err) : "").isTrue();
                assertThat(System.nanoTime()).as("port-forward started in time").isLessThan(deadline);
                Rest.sleep(100);
            }
            assertThat(Files.readString(err)).contains("127.0.0.1:" + local + " -> " + jobId + ":18080");
            var page = get("http://127.0.0.1:" + local + "/hello.txt", null);
            assertThat(new String(page.body())).isEqualTo("hello through the tunnel " + marker + "\n");
        } finally {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void cliLogsShowWhatARunningJobDidSoFar(@TempDir Path temp) throws Exception {
        var logs = Cli.run(temp, "logs", "--server", "127.0.0.1:" + cluster.port(), "--api-key", KEY, jobId);
        assertThat(logs.exitCode()).as(logs.err()).isEqualTo(0);
        assertThat(logs.out()).contains("● pending").contains("● running").contains("▶ exec")
                .contains("python3 servers.py");
        var unknown = Cli.run(temp, "port-forward", "--server", "127.0.0.1:" + cluster.port(), "--api-key", KEY,
                "jaaaaaaaaaaaaaaaaaaaa", "18080", "0");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).contains("no job with id").doesNotContain("Exception");
    }

    @Test
    void webSocketEchoThroughTheProxy() throws Exception {
        try (var factory = ClientFactory.builder().build()) {
            var client = WebSocketClient.builder("ws://127.0.0.1:" + cluster.port())
                    .factory(factory)
                    .addHeader(HttpHeaderNames.AUTHORIZATION, "Bearer " + KEY)
                    .build();
            var session = client.connect("/v1/jobs/" + jobId + "/ports/18081/echo").get(30, TimeUnit.SECONDS);
            var replies = new LinkedBlockingQueue<WebSocketFrame>();
            session.inbound().subscribe(new Subscriber<>() {
                @Override
                public void onSubscribe(Subscription subscription) {
                    subscription.request(Long.MAX_VALUE);
                }

                @Override
                public void onNext(WebSocketFrame frame) {
                    if (frame.type() == WebSocketFrameType.TEXT || frame.type() == WebSocketFrameType.BINARY) {
                        replies.add(frame);
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onComplete() {}
            });
            var outbound = WebSocket.streaming();
            session.setOutbound(outbound);
            outbound.write("ping " + marker);
            outbound.write(WebSocketFrame.ofBinary(new byte[] {1, 2, 3}));
            var text = replies.poll(30, TimeUnit.SECONDS);
            var binary = replies.poll(30, TimeUnit.SECONDS);
            outbound.close();
            assertThat(text).as("the text echo").isNotNull();
            assertThat(text.text()).isEqualTo("ping " + marker);
            assertThat(binary).as("the binary echo").isNotNull();
            assertThat(binary.array()).containsExactly(1, 2, 3);
        }
    }

    @Test
    void onlyTheOwnerOrASignedLinkGetsIn() throws Exception {
        assertThat(get(proxy(18080, "/hello.txt"), null).statusCode()).as("no key").isEqualTo(401);
        assertThat(get(proxy(18080, "/hello.txt"), "Bearer wrong").statusCode()).as("bad key").isEqualTo(401);
        assertThat(get(proxy(18080, "/hello.txt"), "Bearer other-key").statusCode()).as("not the owner").isEqualTo(404);

        var link = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links?ttl_seconds=60", "application/json", "{}"));
        var token = link.path("token").asText();
        var viaLink = get(proxy(18080, "/hello.txt?token=" + token), null);
        assertThat(viaLink.statusCode()).isEqualTo(200);
        var cookie = viaLink.headers().firstValue("set-cookie").orElseThrow();
        assertThat(cookie).contains("Path=/v1/jobs/" + jobId + "/").containsIgnoringCase("HttpOnly");
        var viaCookie = send(HttpRequest.newBuilder(URI.create(proxy(18080, "/hello.txt")))
                .header("Cookie", cookie.substring(0, cookie.indexOf(';'))).GET());
        assertThat(viaCookie.statusCode()).as("the page's own requests carry the cookie").isEqualTo(200);

        assertThat(get(proxy(18080, "/hello.txt?token=" + token + "x"), null).statusCode()).as("forged").isEqualTo(403);
        var shortLived = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links?ttl_seconds=1", "application/json", "{}"))
                .path("token").asText();
        Rest.sleep(2_100);
        assertThat(get(proxy(18080, "/hello.txt?token=" + shortLived), null).statusCode()).as("expired").isEqualTo(403);
        assertThat(get(cluster.baseUrl() + "/v1/jobs/" + jobId + "/events?token=" + shortLived, null).statusCode())
                .as("expired link on events").isEqualTo(403);
    }

    private void awaitServing() throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        HttpResponse<byte[]> last = null;
        while (System.nanoTime() < deadline) {
            last = get(proxy(18080, "/hello.txt"), "Bearer " + KEY);
            if (last.statusCode() == 200) {
                return;
            }
            Rest.sleep(200);
        }
        var logs = Cli.run(Files.createTempDirectory("tunnel-logs"), "logs", "--server", "127.0.0.1:" + cluster.port(),
                "--api-key", KEY, jobId);
        fail("the sandbox's HTTP server never answered through the proxy: %s %s%njob events:%n%s", last.statusCode(),
                new String(last.body()), logs.out() + logs.err());
    }

    private String proxy(int port, String pathAndQuery) {
        return cluster.baseUrl() + "/v1/jobs/" + jobId + "/ports/" + port + pathAndQuery;
    }

    private static byte[] bigFile() {
        var out = new ByteArrayOutputStream();
        var block = new byte[256];
        for (int i = 0; i < 256; i++) {
            block[i] = (byte) i;
        }
        for (int i = 0; i < 20_000; i++) {
            out.writeBytes(block);
        }
        return out.toByteArray();
    }

    private static HttpResponse<byte[]> get(String url, String authorization) {
        var request = HttpRequest.newBuilder(URI.create(url)).GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return send(request);
    }

    private static HttpResponse<byte[]> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
