package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.websocket.WebSocket;
import io.nomadshell.cli.PortForwarder;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas on one Redis; the first runs a job whose sandbox serves HTTP (18080) and a WebSocket
 * echo (18081). Everything live about the job works through the second replica, which does not hold
 * the sandbox: a link made by the first opens on the second's preview origin, the page and the echo
 * answer there, port-forward through the second's API reaches the port, and the desktop and Jupyter
 * start on the second's request. The second carries each to the first over the first's peer listener, which
 * takes only requests signed with the deployment's peer key, for itself, fresh and never seen
 * before. Last, links outlive the replica that made them: after the first restarts, its old link
 * still lets its holder in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LivePartsTest {
    private static final String PARAM = "nomad_shell_link";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String marker = "marker-" + UUID.randomUUID();
    private Path dataDir;
    private EmbeddedRedis redis;
    private ScriptedModelServer model;
    private TestCluster first;
    private TestCluster second;
    private PreviewClient firstPreviews;
    private PreviewClient secondPreviews;
    private String jobId;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        this.dataDir = dataDir;
        redis = EmbeddedRedis.start(dataDir.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("serve-ports", dataDir, marker)).build().start();
        first = TestCluster.start(dataDir.resolve("first"), model.baseUrl(), options -> options.redisUrl(redis.url()));
        jobId = first.rest().schedule("Serve a page and a WebSocket echo");
        first.rest().awaitStatus(jobId, Set.of("running"), Duration.ofSeconds(60));
        // The second starts once the first holds the job, so the job and its sandbox stay the first's.
        second = TestCluster.start(dataDir.resolve("second"), model.baseUrl(), options -> options.redisUrl(redis.url()));
        firstPreviews = new PreviewClient(first.previewPort());
        secondPreviews = new PreviewClient(second.previewPort());
        awaitServing();
    }

    @AfterAll
    void stop() throws Exception {
        if (firstPreviews != null) firstPreviews.close();
        if (secondPreviews != null) secondPreviews.close();
        if (second != null) second.close();
        if (first != null) {
            if (jobId != null) first.rest().post("/v1/jobs/" + jobId + ":cancel", "application/json", "{}");
            first.close();
        }
        if (model != null) model.close();
        if (redis != null) redis.close();
    }

    @Test
    @Order(1)
    void aLinkFromTheFirstReplicaOpensThePreviewThroughTheSecond() {
        var cookie = secondPreviews.enter(onSecond(link(first, 18080, "/")));
        var page = secondPreviews.get(previewOnSecond(18080, "/hello.txt"), "Cookie", cookie);
        assertThat(page.status().code()).as(page.contentUtf8()).isEqualTo(200);
        assertThat(page.contentUtf8()).isEqualTo("hello through the tunnel " + marker + "\n");
        // 5 MB: many windows' worth, through both replicas, whole and in order.
        var big = secondPreviews.get(previewOnSecond(18080, "/big.bin"), "Cookie", cookie);
        assertThat(big.status().code()).isEqualTo(200);
        assertThat(big.content().array()).isEqualTo(Fixtures.bigFile());
        // And the second makes links of its own to a sandbox it does not hold.
        var own = secondPreviews.enter(link(second, 18080, "/"));
        assertThat(secondPreviews.get(previewOnSecond(18080, "/hello.txt"), "Cookie", own).status().code()).isEqualTo(200);
    }

    @Test
    @Order(2)
    void aWebSocketEchoesThroughTheSecondReplica() throws Exception {
        var cookie = secondPreviews.enter(link(second, 18081, "/"));
        var session = secondPreviews.webSocket(previewOnSecond(18081, "/echo"), cookie);
        var replies = PreviewClient.dataFrames(session);
        var outbound = WebSocket.streaming();
        session.setOutbound(outbound);
        outbound.write("ping " + marker);
        var text = replies.poll(30, TimeUnit.SECONDS);
        outbound.close();
        assertThat(text).as("the echo").isNotNull();
        assertThat(text.text()).isEqualTo("ping " + marker);
    }

    @Test
    @Order(3)
    void portForwardThroughTheSecondReplica() throws Exception {
        try (var forwarder = PortForwarder.start("127.0.0.1:" + second.port(), null, jobId, 18080, 0, System.err)) {
            var url = "http://127.0.0.1:" + forwarder.localPort();
            var page = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/hello.txt")).timeout(Duration.ofSeconds(60))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).isEqualTo("hello through the tunnel " + marker + "\n");
            var big = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/big.bin")).timeout(Duration.ofSeconds(60))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(big.body()).isEqualTo(Fixtures.bigFile());
        }
    }

    @Test
    @Order(4)
    void theDesktopStartsOnTheSecondReplicasRequest() {
        var link = Rest.json(second.rest().post("/v1/jobs/" + jobId + "/links?service=desktop", "application/json", "{}"));
        var origin = "http://p6080-" + jobId + ".localhost:" + second.previewPort();
        assertThat(link.path("url").asText()).as("%s", link).startsWith(origin + "/vnc.html?");
        var cookie = secondPreviews.enter(link.path("url").asText());
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        var page = secondPreviews.get(origin + "/vnc.html", "Cookie", cookie);
        while (page.status().code() != 200 && System.nanoTime() < deadline) {
            Rest.sleep(300);
            page = secondPreviews.get(origin + "/vnc.html", "Cookie", cookie);
        }
        assertThat(page.status().code()).as(page.contentUtf8()).isEqualTo(200);
        assertThat(page.contentUtf8()).contains("noVNC");
    }

    @Test
    @Order(5)
    void jupyterStartsThroughTheSecondReplicaWhichAddsItsToken() throws Exception {
        var redirect = HTTP.send(HttpRequest.newBuilder(URI.create(second.baseUrl() + "/v1/jobs/" + jobId + "/jupyter"))
                .timeout(Duration.ofSeconds(150)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(redirect.statusCode()).as(redirect.body()).isEqualTo(302);
        var origin = "http://p8888-" + jobId + ".localhost:" + second.previewPort();
        var cookie = secondPreviews.enter(redirect.headers().firstValue("location").orElseThrow());
        var status = secondPreviews.get(origin + "/api/status", "Cookie", cookie);
        // Jupyter's own status document: it answers only with its token, which the second replica adds.
        assertThat(status.status().code()).as(status.contentUtf8()).isEqualTo(200);
        assertThat(Rest.JSON.readTree(status.contentUtf8()).has("started")).as(status.contentUtf8()).isTrue();
    }

    @Test
    @Order(6)
    void thePeerListenerTakesOnlySignedFreshRequestsForItselfOnce() throws Exception {
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var redisCommands = connection.commands();
            var holder = redisCommands.get("ns:lease:" + jobId).replaceFirst("/[0-9]+$", "");
            var address = redisCommands.get("ns:peer:" + holder);
            var key = Base64.getDecoder().decode(redisCommands.hget("ns:secrets", "peers"));
            var otherReplica = redisCommands.keys("ns:peer:*").stream().map(name -> name.substring("ns:peer:".length()))
                    .filter(name -> !name.equals(holder)).findFirst().orElseThrow();

            // What a replica sends: taken once, and the bytes after it reach the sandbox's port.
            var line = PeerRequests.signed(key, jobId, 18080, holder, System.currentTimeMillis(),
                    "nonce-" + UUID.randomUUID());
            try (var socket = dial(address)) {
                socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
                assertThat(PeerRequests.readLine(socket.getInputStream())).isEqualTo("ok");
                socket.getOutputStream().write("GET /hello.txt HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                        .startsWith("HTTP/1.0 200").endsWith("hello through the tunnel " + marker + "\n");
            }
            assertThat(answer(address, line)).as("replayed").isEqualTo("no the request was seen before");

            long now = System.currentTimeMillis();
            assertThat(answer(address, line.substring(0, line.lastIndexOf(' ')) + " AAAA")).as("forged")
                    .isEqualTo("no the request's signature is not valid");
            var otherKey = new byte[32];
            assertThat(answer(address, PeerRequests.signed(otherKey, jobId, 18080, holder, now, "n1")))
                    .as("another key")
                    .isEqualTo("no the request's signature is not valid");
            assertThat(answer(address, PeerRequests.signed(key, jobId, 18080, otherReplica, now, "n2")))
                    .as("for another replica")
                    .isEqualTo("no the request is meant for another replica");
            assertThat(answer(address, PeerRequests.signed(key, jobId, 18080, holder, now - 120_000, "n3")))
                    .as("stale")
                    .startsWith("no the request is stale");
            assertThat(answer(address, "GET / HTTP/1.1")).as("not a peer").isEqualTo("no the request is malformed");
            // A replica asked for a sandbox it does not hold says so, and never asks on.
            var toSecond = redisCommands.get("ns:peer:" + otherReplica);
            assertThat(answer(toSecond, PeerRequests.signed(key, jobId, 18080, otherReplica, now, "n4")))
                    .startsWith("no job " + jobId + " has no sandbox attached to this control plane");
        }
    }

    @Test
    @Order(7)
    void linksStillOpenAfterTheReplicaThatMadeThemRestarts() throws Exception {
        var url = link(first, 18080, "/");
        firstPreviews.close();
        firstPreviews = null;
        first.close();
        first = TestCluster.start(dataDir.resolve("first"), model.baseUrl(), options -> options.redisUrl(redis.url()));
        firstPreviews = new PreviewClient(first.previewPort());
        var token = url.substring(url.indexOf(PARAM + "=") + PARAM.length() + 1);
        var entered = firstPreviews.get("http://p18080-" + jobId + ".localhost:" + first.previewPort() + "/?" + PARAM
                + "=" + token);
        assertThat(entered.status().code()).as(entered.contentUtf8()).isEqualTo(302);
        assertThat(entered.headers().get("set-cookie")).startsWith(PreviewClient.COOKIE + "=");
    }

    private void awaitServing() {
        var cookie = firstPreviews.enter(link(first, 18080, "/"));
        var origin = "http://p18080-" + jobId + ".localhost:" + first.previewPort();
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (firstPreviews.get(origin + "/hello.txt", "Cookie", cookie).status().code() != 200) {
            assertThat(System.nanoTime()).as("the sandbox's server answered in time").isLessThan(deadline);
            Rest.sleep(200);
        }
    }

    /** A link from {@code replica}'s API that opens {@code path} on {@code port}'s preview there. */
    private String link(TestCluster replica, int port, String path) {
        var response = replica.rest().post("/v1/jobs/" + jobId + "/links?port=" + port + "&path="
                + URLEncoder.encode(path, StandardCharsets.UTF_8), "application/json", "{}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Rest.json(response).path("url").asText();
    }

    /** The same link, opened on the second replica's preview listener. */
    private String onSecond(String url) {
        return url.replace(".localhost:" + first.previewPort() + "/", ".localhost:" + second.previewPort() + "/");
    }

    private String previewOnSecond(int port, String pathAndQuery) {
        return "http://p" + port + "-" + jobId + ".localhost:" + second.previewPort() + pathAndQuery;
    }

    private static String answer(String address, String line) throws Exception {
        try (var socket = dial(address)) {
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            return PeerRequests.readLine(socket.getInputStream());
        }
    }

    private static Socket dial(String address) throws Exception {
        int colon = address.lastIndexOf(':');
        var socket = new Socket();
        socket.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                5_000);
        socket.setSoTimeout(30_000);
        return socket;
    }
}
