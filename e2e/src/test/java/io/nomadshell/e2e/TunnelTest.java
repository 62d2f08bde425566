package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import io.nomadshell.cli.PortForwarder;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tunnels over Attach: servers started inside a sandbox (HTTP on 18080, a WebSocket echo on 18081,
 * a request echo on 18888; loopback only, no network) answer from outside on their preview origins
 * (p<port>-<job>.localhost on the preview port), only with the owner's link for that job and port,
 * and through port-forward. The API itself only redirects to previews.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelTest {
    private static final String KEY = "tunnel-key";
    private static final String PARAM = "nomad_shell_link";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String marker = "marker-" + UUID.randomUUID();
    private ScriptedModelServer model;
    private TestCluster cluster;
    private PreviewClient previews;
    private String jobId;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("serve-ports", dataDir, marker)).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2, ApiKeys.of(Set.of(KEY, "other-key")));
        previews = new PreviewClient(cluster.previewPort());
        jobId = cluster.rest(KEY).schedule("Serve a page and a WebSocket echo");
        cluster.rest(KEY).awaitStatus(jobId, Set.of("running"), Duration.ofSeconds(60));
        awaitServing();
    }

    @AfterAll
    void stop() {
        if (previews != null) previews.close();
        if (cluster != null) {
            if (jobId != null) cluster.rest(KEY).post("/v1/jobs/" + jobId + ":cancel", "application/json", "{}");
            cluster.close();
        }
        if (model != null) model.close();
    }

    @Test
    void httpThroughThePreviewOrigin() {
        var cookie = previews.enter(link(18080, "/"));
        var page = previews.get(preview(18080, "/hello.txt"), "Cookie", cookie);
        assertThat(page.status().code()).isEqualTo(200);
        assertThat(page.contentUtf8()).isEqualTo("hello through the tunnel " + marker + "\n");

        // 5 MB: many windows' worth, so credit must flow back for it to arrive whole and in order.
        var big = previews.get(preview(18080, "/big.bin"), "Cookie", cookie);
        assertThat(big.status().code()).isEqualTo(200);
        assertThat(big.content().array()).isEqualTo(Fixtures.bigFile());
    }

    @Test
    void theSandboxSeesThePathButNeverTheCredentials() {
        var url = link(18888, "/a/b?x=1");
        var entered = previews.get(url);
        assertThat(entered.status().code()).isEqualTo(302);
        assertThat(entered.headers().get("location")).as("the link leaves the address, the rest stays").isEqualTo("/a/b?x=1");
        var setCookie = entered.headers().get("set-cookie");
        assertThat(setCookie).startsWith(PreviewClient.COOKIE + "=").contains("Path=/").containsIgnoringCase("HttpOnly")
                .containsIgnoringCase("SameSite=Lax").doesNotContainIgnoringCase("domain");
        var cookie = setCookie.substring(0, setCookie.indexOf(';'));

        var seen = previews.get(preview(18888, "/a/b?x=1"), "Cookie", cookie + "; _xsrf=abc",
                "Authorization", "Bearer " + KEY, "Origin", origin(18888));
        assertThat(seen.status().code()).isEqualTo(200);
        assertThat(seen.contentUtf8()).as("key and link stay out; the page's own origin is the sandbox's own")
                .isEqualTo("/a/b?x=1\n\n_xsrf=abc\nhttp://127.0.0.1:18888");
        var foreign = previews.get(preview(18888, "/"), "Cookie", cookie, "Origin", "http://evil.localhost");
        assertThat(foreign.contentUtf8()).as("another origin is passed on as it is").endsWith("\nhttp://evil.localhost");
    }

    @Test
    void whatTheSandboxAnswersCannotSetStateElsewhere() {
        var cookie = previews.enter(link(18888, "/"));
        var answer = previews.get(preview(18888, "/set-state"), "Cookie", cookie);
        assertThat(answer.status().code()).isEqualTo(200);
        assertThat(answer.headers().getAll("set-cookie")).as("host-only cookies pass; Domain ones and ours do not")
                .containsExactly("host_only=1; Path=/");
        assertThat(answer.headers().names()).extracting(Object::toString)
                .doesNotContain("strict-transport-security", "alt-svc", "clear-site-data", "public-key-pins");
        assertThat(answer.headers().get("x-kept")).isEqualTo("yes");
    }

    @Test
    void aPortWithNothingListeningIsABadGateway() {
        var cookie = previews.enter(link(18999, "/"));
        var response = previews.get(preview(18999, "/"), "Cookie", cookie);
        assertThat(response.status().code()).isEqualTo(502);
        assertThat(response.contentUtf8()).contains("Nothing answered on port 18999 in the sandbox");
        var zero = cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links?port=0", "application/json", "{}");
        assertThat(zero.statusCode()).as("port 0").isEqualTo(400);
    }

    @Test
    void httpThroughPortForward() throws Exception {
        try (var forwarder = PortForwarder.start("127.0.0.1:" + cluster.port(), KEY, jobId, 18080, 0, System.err)) {
            var url = "http://127.0.0.1:" + forwarder.localPort();
            var page = get(url + "/hello.txt", null);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(new String(page.body())).isEqualTo("hello through the tunnel " + marker + "\n");
            assertThat(get(url + "/big.bin", null).body()).isEqualTo(Fixtures.bigFile());
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
    void webSocketEchoThroughThePreviewOrigin() throws Exception {
        var cookie = previews.enter(link(18081, "/"));
        var session = previews.webSocket(preview(18081, "/echo"), cookie);
        var replies = PreviewClient.dataFrames(session);
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

    @Test
    void onlyTheOwnersLinkForThatJobAndPortGetsIn() throws Exception {
        assertThat(previews.get(preview(18080, "/hello.txt")).status().code()).as("no link, no cookie").isEqualTo(401);
        assertThat(previews.get(preview(18080, "/hello.txt"), "Authorization", "Bearer " + KEY).status().code())
                .as("the API key means nothing here").isEqualTo(401);
        assertThat(linkResponse(18080, "other-key").statusCode()).as("not the owner").isEqualTo(404);
        assertThat(cluster.rest("wrong").post("/v1/jobs/" + jobId + "/links?port=18080", "application/json", "{}")
                .statusCode()).as("bad key").isEqualTo(401);

        var url = link(18080, "/hello.txt");
        var token = url.substring(url.indexOf(PARAM + "=") + PARAM.length() + 1);
        var cookie = previews.enter(url);
        assertThat(previews.get(preview(18080, "/hello.txt"), "Cookie", cookie).status().code()).isEqualTo(200);
        // The same link and its cookie do not open another port of the job, nor the port of another job.
        assertThat(previews.get(preview(18888, "/?" + PARAM + "=" + token)).status().code()).as("link on port Q").isEqualTo(403);
        assertThat(previews.get(preview(18888, "/"), "Cookie", cookie).status().code()).as("cookie on port Q").isEqualTo(403);
        var otherJob = "jaaaaaaaaaaaaaaaaaaaa";
        var otherHost = "http://p18080-" + otherJob + ".localhost:" + cluster.previewPort();
        assertThat(previews.get(otherHost + "/?" + PARAM + "=" + token).status().code()).as("link on job B").isEqualTo(403);
        assertThat(previews.get(otherHost + "/", "Cookie", cookie).status().code()).as("cookie on job B").isEqualTo(403);
        // A planted cookie of our name beside the right one does not lock the owner out.
        assertThat(previews.get(preview(18080, "/hello.txt"), "Cookie", PreviewClient.COOKIE + "=planted; " + cookie)
                .status().code()).isEqualTo(200);

        assertThat(previews.get(preview(18080, "/hello.txt?" + PARAM + "=" + token + "x")).status().code()).as("forged").isEqualTo(403);
        var shortLived = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links?port=18080&ttl_seconds=1",
                "application/json", "{}")).path("url").asText();
        Rest.sleep(2_100);
        var expired = previews.get(shortLived);
        assertThat(expired.status().code()).as("expired").isEqualTo(403);
        assertThat(expired.contentUtf8()).contains("expired");

        // Hosts that are not previews of this listener.
        var port = cluster.previewPort();
        assertThat(previews.get("http://127.0.0.1:" + port + "/").status().code()).isEqualTo(404);
        assertThat(previews.get("http://p18080-" + jobId + ".example.com:" + port + "/").status().code()).isEqualTo(404);
        assertThat(previews.get("http://p18080-" + jobId + ".localhost:" + (port + 1) + "/", "Cookie", cookie)
                .status().code()).as("another port in Host").isEqualTo(404);
        assertThat(previews.get("http://p0-" + jobId + ".localhost:" + port + "/").status().code()).isEqualTo(404);
    }

    @Test
    void theApiNoLongerServesSandboxPortsButRedirectsToTheirPreview() {
        var redirect = cluster.rest(KEY).get("/v1/jobs/" + jobId + "/ports/18080/hello.txt?x=1");
        assertThat(redirect.statusCode()).isEqualTo(307);
        var location = redirect.headers().firstValue("location").orElseThrow();
        assertThat(location).startsWith(origin(18080) + "/hello.txt?x=1&" + PARAM + "=");
        var cookie = previews.enter(location);
        assertThat(previews.get(preview(18080, "/hello.txt?x=1"), "Cookie", cookie).contentUtf8())
                .isEqualTo("hello through the tunnel " + marker + "\n");
        assertThat(cluster.rest().get("/v1/jobs/" + jobId + "/ports/18080/hello.txt").statusCode()).as("no key").isEqualTo(401);
    }

    private void awaitServing() throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        var cookie = previews.enter(link(18080, "/"));
        AggregatedHttpResponse last = null;
        while (System.nanoTime() < deadline) {
            last = previews.get(preview(18080, "/hello.txt"), "Cookie", cookie);
            if (last.status().code() == 200) {
                return;
            }
            Rest.sleep(200);
        }
        var logs = Cli.run(Files.createTempDirectory("tunnel-logs"), "logs", "--server", "127.0.0.1:" + cluster.port(),
                "--api-key", KEY, jobId);
        fail("the sandbox's HTTP server never answered through its preview: %s %s%njob events:%n%s", last.status(),
                last.contentUtf8(), logs.out() + logs.err());
    }

    /** A link from the API that opens {@code path} on {@code port}'s preview. */
    private String link(int port, String path) {
        var response = linkResponse(port, KEY, path);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var url = Rest.json(response).path("url").asText();
        assertThat(url).startsWith(origin(port) + path);
        return url;
    }

    private HttpResponse<String> linkResponse(int port, String key) {
        return linkResponse(port, key, "/");
    }

    private HttpResponse<String> linkResponse(int port, String key, String path) {
        return cluster.rest(key).post("/v1/jobs/" + jobId + "/links?port=" + port + "&path="
                + URLEncoder.encode(path, StandardCharsets.UTF_8), "application/json", "{}");
    }

    private String origin(int port) {
        return "http://p" + port + "-" + jobId + ".localhost:" + cluster.previewPort();
    }

    private String preview(int port, String pathAndQuery) {
        return origin(port) + pathAndQuery;
    }

    private static HttpResponse<byte[]> get(String url, @Nullable String authorization) {
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
