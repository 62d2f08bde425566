package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.nomadshell.controlplane.webhook.WebhookOptions;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.auth.KeysFile;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks to a receiver on loopback (the JDK's HttpServer): signed deliveries of the job as GET
 * shows it, retries until a 2xx, a bounded retry time for a receiver that never answers, each attempt
 * on the job's events, and callbacks off the allowlist refused at Schedule.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebhookTest {
    private static final String KEY = "k1";
    private static final String SECRET = "whsec-e2e-0123456789abcdef";
    /** A key without a webhook secret. */
    private static final String UNSIGNED_KEY = "k2";
    private static final Duration RETRY_FOR = Duration.ofSeconds(4);

    private ScriptedModelServer model;
    private TestCluster cluster;
    private HttpServer receiver;
    private final Map<String, List<Received>> received = new ConcurrentHashMap<>();
    private final AtomicInteger flakyFailures = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);

    record Received(Instant at, String delivery, String signature, byte[] body) {}

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        receiver.setExecutor(Executors.newCachedThreadPool());
        receiver.createContext("/", this::receive);
        receiver.start();
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        var hosts = WebhookOptions.parseHosts("127.0.0.1:" + receiver.getAddress().getPort());
        var lines = List.of(KEY + " webhook_secret=" + SECRET, UNSIGNED_KEY);
        var keys = ApiKeys.of(KeysFile.parse(lines)).withWebhookSecrets(KeysFile.webhookSecrets(lines));
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2, keys, options -> options
                .webhooks(new WebhookOptions(hosts, RETRY_FOR, Duration.ofMillis(500), Duration.ofSeconds(2),
                        Duration.ofSeconds(1)))
                .webhookSecrets(keys.webhookSecrets()));
    }

    @AfterAll
    void stop() {
        released.countDown();
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        if (receiver != null) receiver.stop(0);
    }

    /** /ok answers 204; /flaky 500 twice, then 200; /failing always 500; /silent never answers. */
    private void receive(HttpExchange exchange) throws IOException {
        try (exchange) {
            var body = exchange.getRequestBody().readAllBytes();
            var path = exchange.getRequestURI().getPath();
            received.computeIfAbsent(path, p -> new CopyOnWriteArrayList<>()).add(new Received(Instant.now(),
                    exchange.getRequestHeaders().getFirst("Nomad-Shell-Delivery"),
                    exchange.getRequestHeaders().getFirst("Nomad-Shell-Signature"), body));
            int status = switch (path) {
                case "/ok" -> 204;
                case "/flaky" -> flakyFailures.getAndIncrement() < 2 ? 500 : 200;
                case "/silent" -> {
                    try {
                        released.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    yield 200;
                }
                default -> 500;
            };
            exchange.sendResponseHeaders(status, -1);
        }
    }

    private String url(String path) {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + path;
    }

    private String schedule(String key, String callbackUrl, String events) {
        var body = Rest.JSON.createObjectNode().put("task", Fixtures.HELLO_TASK).put("callback_url", callbackUrl)
                .put("callback_events", events);
        var response = cluster.rest(key).post("/v1/jobs", "application/json", body.toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Rest.json(response).path("job_id").asText();
    }

    /**
     * The job's webhook_delivery events once {@code done} holds: from its event stream, read live, and
     * read again from the start when it ends first (deliveries come after the job's end); bounded.
     */
    private List<JsonNode> deliveries(String jobId, Predicate<List<JsonNode>> done) {
        var deadline = Instant.now().plusSeconds(40);
        List<JsonNode> found = List.of();
        while (Instant.now().isBefore(deadline)) {
            var read = Sse.read(cluster.baseUrl() + "/v1/jobs/" + jobId + "/events", Map.of("Authorization", "Bearer " + KEY),
                    seen -> done.test(webhookEvents(seen)), Duration.ofSeconds(30));
            assertThat(read.status()).as(read.errorBody()).isEqualTo(200);
            found = webhookEvents(read.dispatched());
            if (done.test(found)) {
                return found;
            }
            Rest.sleep(100);
        }
        return fail("job %s's webhook deliveries did not settle; seen: %s", jobId, found);
    }

    private static List<JsonNode> webhookEvents(List<Sse.Event> events) {
        var found = new ArrayList<JsonNode>();
        for (var event : events) {
            if (event.event().equals("webhook_delivery")) {
                try {
                    found.add(Rest.JSON.readTree(event.data()).path("webhook_delivery"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return found;
    }

    private static String hmacHex(String secret, String signed) throws GeneralSecurityException {
        var mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void everyStatusChangeIsPostedSignedAsTheJobGetShows() throws Exception {
        var id = schedule(KEY, url("/ok"), "all");
        cluster.rest(KEY).awaitEnd(id, Duration.ofSeconds(60));
        var events = deliveries(id, found -> found.stream().anyMatch(d -> d.path("status").asText().equals("complete")));
        assertThat(events).extracting(d -> d.path("status").asText()).containsExactly("starting", "running", "complete");
        assertThat(events).allSatisfy(d -> {
            assertThat(d.path("delivered").asBoolean()).isTrue();
            assertThat(d.path("status_code").asInt()).isEqualTo(204);
            assertThat(d.path("attempt").asInt()).isEqualTo(1);
        });

        var posts = received.get("/ok").stream().filter(r -> r.delivery().startsWith(id)).toList();
        assertThat(posts).hasSize(3);
        for (var post : posts) {
            // The receiver's check, as the README gives it: t and v1 from the header, HMAC of "<t>.<body>".
            var parts = Map.of(post.signature().split(",")[0].split("=")[0], post.signature().split(",")[0].split("=")[1],
                    post.signature().split(",")[1].split("=")[0], post.signature().split(",")[1].split("=")[1]);
            var body = new String(post.body(), StandardCharsets.UTF_8);
            assertThat(parts.get("v1")).isEqualTo(hmacHex(SECRET, parts.get("t") + "." + body));
            assertThat(hmacHex("another-secret-entirely", parts.get("t") + "." + body)).isNotEqualTo(parts.get("v1"));
            assertThat(Math.abs(Instant.now().getEpochSecond() - Long.parseLong(parts.get("t")))).isLessThan(120);
        }
        var last = posts.stream().filter(p -> p.delivery().equals(events.getLast().path("delivery_id").asText())).findFirst()
                .orElseThrow();
        assertThat(Rest.JSON.readTree(last.body())).isEqualTo(cluster.rest(KEY).status(id));
    }

    @Test
    void aReceiverThatFailsTwiceGetsTheThirdAttemptWithTheSameDelivery() throws Exception {
        var id = schedule(KEY, url("/flaky"), "");
        cluster.rest(KEY).awaitEnd(id, Duration.ofSeconds(60));
        var events = deliveries(id, found -> found.stream().anyMatch(d -> d.path("delivered").asBoolean()
                || d.path("gave_up").asBoolean()));
        assertThat(events).extracting(d -> d.path("attempt").asInt()).containsExactly(1, 2, 3);
        assertThat(events).extracting(d -> d.path("status_code").asInt()).containsExactly(500, 500, 200);
        assertThat(events.get(0).path("next_attempt_at").asText()).isNotEmpty();
        assertThat(events.get(0).path("error").asText()).contains("HTTP 500");
        assertThat(events.getLast().path("delivered").asBoolean()).isTrue();
        assertThat(events).extracting(d -> d.path("status").asText()).containsOnly("complete");

        var posts = received.get("/flaky");
        assertThat(posts).hasSize(3);
        assertThat(posts).extracting(Received::delivery).containsOnly(events.getFirst().path("delivery_id").asText());
        assertThat(posts).extracting(p -> new String(p.body(), StandardCharsets.UTF_8)).as("retries send the same body")
                .containsOnly(new String(posts.getFirst().body(), StandardCharsets.UTF_8));
        assertThat(Duration.between(posts.get(0).at(), posts.get(2).at())).as("waits of 0.5 s, then 1 s")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1400));
    }

    @Test
    void receiversThatNeverAnswerOrAlwaysFailAreGivenUpAfterTheRetryTime() throws Exception {
        var paths = List.of("/silent", "/failing");
        var ids = paths.stream().map(path -> schedule(KEY, url(path), "terminal")).toList();
        for (int i = 0; i < paths.size(); i++) {
            var path = paths.get(i);
            var id = ids.get(i);
            var ended = Instant.parse(cluster.rest(KEY).awaitEnd(id, Duration.ofSeconds(60)).last().path("finished_at").asText());
            var events = deliveries(id, found -> found.stream().anyMatch(d -> d.path("gave_up").asBoolean()));
            assertThat(events).as(path).hasSizeGreaterThanOrEqualTo(2);
            assertThat(events.getLast().path("gave_up").asBoolean()).isTrue();
            assertThat(events.getLast().has("next_attempt_at")).isFalse();
            assertThat(events).extracting(d -> d.path("delivered").asBoolean()).containsOnly(false);
            if (path.equals("/silent")) {
                assertThat(events.getFirst().path("error").asText()).contains("no answer in time");
            } else {
                assertThat(events).extracting(d -> d.path("status_code").asInt()).containsOnly(500);
            }
            var posts = received.get(path);
            assertThat(posts).as("one POST an attempt, none after giving up").hasSize(events.size());
            // Every attempt started within the retry time (plus the slack of one poll).
            assertThat(posts.getLast().at()).isBefore(ended.plus(RETRY_FOR).plusSeconds(2));
        }
    }

    @Test
    void callbacksOffTheAllowlistOrWithoutASecretAreRefusedAtSchedule() {
        int port = receiver.getAddress().getPort();
        var refusals = Map.of(
                "http://127.0.0.2:" + port + "/", "not on the server's webhook allowlist",
                "http://localhost:6379/", "not on the server's webhook allowlist",
                "http://127.0.0.1:6379/", "not on the server's webhook allowlist",
                "http://localhost:" + port + "/", "not on the server's webhook allowlist",
                "ftp://127.0.0.1:" + port + "/", "http:// or https://",
                "http://user:pw@127.0.0.1:" + port + "/", "user or password");
        refusals.forEach((callback, words) -> {
            var body = Rest.JSON.createObjectNode().put("task", "hello").put("callback_url", callback);
            var response = cluster.rest(KEY).post("/v1/jobs", "application/json", body.toString());
            assertThat(response.statusCode()).as(callback + ": " + response.body()).isEqualTo(400);
            assertThat(response.body()).as(callback).contains(words);
        });
        var body = Rest.JSON.createObjectNode().put("task", "hello").put("callback_url", url("/ok"));
        var response = cluster.rest(UNSIGNED_KEY).post("/v1/jobs", "application/json", body.toString());
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("no webhook secret");
        assertThat(received.keySet()).as("nothing was delivered for a refused job").doesNotContain("/");
    }
}
