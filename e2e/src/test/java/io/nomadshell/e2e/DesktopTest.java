package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.websocket.WebSocketClient;
import com.linecorp.armeria.common.HttpHeaderNames;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The desktop and Jupyter through tunnels, started on demand in a job whose model only waits
 * (scenario live-services: no call of it touches either). A signed link opens /desktop, which
 * starts the real stack inside the sandbox (Xvfb, x11vnc on 5900, websockify serving noVNC on
 * 6080); noVNC's page loads, and its WebSocket reaches x11vnc, which greets with the RFB version.
 * /jupyter/api/status is answered by the real Jupyter Server, started on demand under the job's
 * base URL. Also: an idle event stream gets keepalives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DesktopTest {
    private static final String KEY = "desktop-key";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private ScriptedModelServer model;
    private TestCluster cluster;
    private String jobId;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("live-services", dataDir, "")).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2, ApiKeys.of(Set.of(KEY)));
        jobId = cluster.rest(KEY).schedule("Show me a desktop");
        cluster.rest(KEY).awaitStatus(jobId, Set.of("running"), Duration.ofSeconds(60));
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
    void noVncLoadsAndItsWebSocketReachesX11vnc() throws Exception {
        var link = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + jobId + "/links", "application/json", "{}"));
        var desktop = send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + link.path("desktop_url").asText())));
        assertThat(desktop.statusCode()).isEqualTo(302);
        var location = desktop.headers().firstValue("location").orElseThrow();
        assertThat(location).startsWith("/v1/jobs/" + jobId + "/ports/6080/vnc.html")
                .contains("path=v1/jobs/" + jobId + "/ports/6080/websockify");
        var setCookie = desktop.headers().firstValue("set-cookie").orElseThrow();
        var cookie = setCookie.substring(0, setCookie.indexOf(';'));

        var page = awaitPage(cluster.baseUrl() + location, cookie);
        assertThat(page).contains("noVNC");

        try (var factory = ClientFactory.builder().build()) {
            var client = WebSocketClient.builder("ws://127.0.0.1:" + cluster.port())
                    .factory(factory)
                    .subprotocols("binary")
                    .addHeader(HttpHeaderNames.COOKIE, cookie)
                    .build();
            var session = client.connect("/v1/jobs/" + jobId + "/ports/6080/websockify").get(30, TimeUnit.SECONDS);
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
        }
    }

    @Test
    void jupyterStartsOnDemandUnderTheJobsPath() throws Exception {
        var status = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/v1/jobs/" + jobId + "/jupyter/api/status"))
                        .header("Authorization", "Bearer " + KEY).timeout(Duration.ofSeconds(150)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
        assertThat(status.headers().firstValue("content-type").orElseThrow()).startsWith("application/json");
        // Jupyter's own status document: it answers under /v1/jobs/<id>/jupyter/ only with that base_url.
        assertThat(Rest.json(status).has("started")).as(status.body()).isTrue();

        var other = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/v1/jobs/" + jobId + "/jupyter/api/status"))
                        .timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(other.statusCode()).as("without a key").isEqualTo(401);
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

    private static String awaitPage(String url, String cookie) {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        HttpResponse<byte[]> last = null;
        while (System.nanoTime() < deadline) {
            last = send(HttpRequest.newBuilder(URI.create(url)).header("Cookie", cookie));
            if (last.statusCode() == 200) {
                return new String(last.body(), StandardCharsets.UTF_8);
            }
            Rest.sleep(300);
        }
        return fail("noVNC never answered through the proxy: %s %s", last.statusCode(), new String(last.body()));
    }

    private static HttpResponse<byte[]> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
