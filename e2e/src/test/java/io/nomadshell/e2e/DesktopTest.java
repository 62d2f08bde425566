package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.common.websocket.WebSocketFrameType;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The desktop and Jupyter through tunnels, started on demand in a job whose model only waits
 * (scenario live-services: no call of it touches either), each on its own preview origin. A link
 * for the desktop starts the real stack inside the sandbox (Xvfb, x11vnc on 5900, websockify serving
 * noVNC on 6080); noVNC's page loads on p6080-<job>, and its WebSocket reaches x11vnc, which greets
 * with the RFB version. The API's /jupyter starts the real Jupyter Server and redirects to p8888-<job>,
 * where /api/status answers only because the proxy adds the token Jupyter demands, which the
 * browser never sees. Also: an idle event stream gets keepalives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DesktopTest {
    private static final String KEY = "desktop-key";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private ScriptedModelServer model;
    private TestCluster cluster;
    private PreviewClient previews;
    private String jobId;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("live-services", dataDir, "")).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2, ApiKeys.of(Set.of(KEY)));
        previews = new PreviewClient(cluster.previewPort());
        jobId = cluster.rest(KEY).schedule("Show me a desktop");
        cluster.rest(KEY).awaitStatus(jobId, Set.of("running"), Duration.ofSeconds(60));
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
    void noVncLoadsOnItsPreviewOriginAndItsWebSocketReachesX11vnc() throws Exception {
        var link = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links?service=desktop", "application/json", "{}"));
        var origin = "http://p6080-" + jobId + ".localhost:" + cluster.previewPort();
        assertThat(link.path("origin").asText()).isEqualTo(origin);
        assertThat(link.path("url").asText())
                .startsWith(origin + "/vnc.html?autoconnect=true&resize=remote&path=websockify&nomad_shell_link=");
        var cookie = previews.enter(link.path("url").asText());

        var page = awaitPage(origin + "/vnc.html", cookie);
        assertThat(page).contains("noVNC");

        var session = previews.webSocket(origin + "/websockify", cookie, "binary");
        var outbound = WebSocket.streaming();
        session.setOutbound(outbound);
        var greeting = new StringBuilder();
        session.inbound().subscribe(new org.reactivestreams.Subscriber<>() {
            @Override
            public void onSubscribe(org.reactivestreams.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(com.linecorp.armeria.common.websocket.WebSocketFrame frame) {
                if (frame.type() == WebSocketFrameType.BINARY) {
                    synchronized (greeting) {
                        greeting.append(new String(frame.array(), StandardCharsets.US_ASCII));
                        greeting.notifyAll();
                    }
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        });
        var deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        synchronized (greeting) {
            while (greeting.length() < 12 && System.nanoTime() < deadline) {
                greeting.wait(500);
            }
        }
        assertThat(greeting.toString()).as("x11vnc's RFB greeting through websockify").startsWith("RFB 003.");
        outbound.close();

        // The API's /desktop starts it too, and sends the owner (with the key) to the same page.
        var redirect = send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/v1/jobs/" + jobId + "/desktop"))
                .header("Authorization", "Bearer " + KEY));
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().firstValue("location").orElseThrow()).startsWith(origin + "/vnc.html?");
    }

    @Test
    void jupyterStartsOnDemandOnItsPreviewOriginAndTheProxyAddsItsToken() throws Exception {
        var redirect = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/v1/jobs/" + jobId + "/jupyter"))
                        .header("Authorization", "Bearer " + KEY).timeout(Duration.ofSeconds(150)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(redirect.statusCode()).as(redirect.body()).isEqualTo(302);
        var origin = "http://p8888-" + jobId + ".localhost:" + cluster.previewPort();
        var location = redirect.headers().firstValue("location").orElseThrow();
        assertThat(location).startsWith(origin + "/?nomad_shell_link=");
        var cookie = previews.enter(location);

        var status = previews.get(origin + "/api/status", "Cookie", cookie);
        assertThat(status.status().code()).as(status.contentUtf8()).isEqualTo(200);
        assertThat(status.headers().contentType().toString()).startsWith("application/json");
        // Jupyter's own status document: it demands its token, which only the proxy adds.
        assertThat(Rest.JSON.readTree(status.contentUtf8()).has("started")).as(status.contentUtf8()).isTrue();
        var token = cluster.controlPlane().tunnels().jupyterToken(jobId);
        assertThat(status.headers().toString()).doesNotContain(token);
        assertThat(status.contentUtf8()).doesNotContain(token);

        assertThat(previews.get(origin + "/api/status").status().code()).as("without the link's cookie").isEqualTo(401);
        var keyOnly = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/v1/jobs/" + jobId + "/jupyter"))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(keyOnly.statusCode()).as("the API's door without a key").isEqualTo(401);
    }

    @Test
    void idleEventStreamsGetKeepalives() {
        // Every event so far, then nothing while the model waits: a keepalive comment must come.
        var read = Sse.read(cluster.baseUrl() + "/v1/jobs/" + jobId + "/events",
                Map.of("Authorization", "Bearer " + KEY),
                seen -> seen.stream().anyMatch(event -> event.comment().equals("keepalive")), Duration.ofSeconds(40));
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.events()).anySatisfy(event -> assertThat(event.comment()).isEqualTo("keepalive"));
        assertThat(read.dispatched()).isNotEmpty();
    }

    private String awaitPage(String url, String cookie) {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        AggregatedHttpResponse last = null;
        while (System.nanoTime() < deadline) {
            last = previews.get(url, "Cookie", cookie);
            if (last.status().code() == 200) {
                return last.contentUtf8();
            }
            Rest.sleep(300);
        }
        return fail("noVNC never answered on its preview origin: %s %s", last.status(), last.contentUtf8());
    }

    private static HttpResponse<byte[]> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
