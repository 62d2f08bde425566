package io.nomadshell.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.sun.net.httpserver.HttpServer;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.store.WebhookQueue;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.WebhookDelivery;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deliverers of several replicas sharing one real Redis, POSTing to a receiver on loopback: each
 * delivery is made once, and one a replica left due when it stopped is made by another.
 */
class WebhookDelivererTest {
    private static final WebhookSecrets SECRETS = owner -> Optional.of("secret-0123456789abcdef".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;
    static HttpServer receiver;
    static final List<String> received = new CopyOnWriteArrayList<>();
    static volatile boolean up = true;
    static WebhookOptions options;

    @BeforeAll
    static void start() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection);
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        receiver.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                received.add(exchange.getRequestHeaders().getFirst(WebhookDeliverer.DELIVERY_HEADER));
                exchange.sendResponseHeaders(up ? 204 : 503, -1);
            }
        });
        receiver.start();
        options = new WebhookOptions(WebhookOptions.parseHosts("127.0.0.1:" + receiver.getAddress().getPort()),
                Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
        connection.close();
        redis.close();
    }

    private static WebhookDeliverer replica() {
        return WebhookDeliverer.start(new WebhookQueue(connection), store, options, SECRETS,
                new WebhookAddresses(options.allowHosts()), Clock.systemUTC());
    }

    /** A job with a callback, ended at once: one delivery due. */
    private static String endedJob() {
        var id = store.create(JobIds.next(), "alice", "build", SandboxResources.DEFAULT, Instant.now(), null,
                KeyQuota.unlimited("alice"), "", Map.of("callback_url",
                        "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook", "callback_events", "terminal"));
        store.cancel(id, Map.of());
        return id;
    }

    private static List<WebhookDelivery> deliveries(String jobId) {
        return store.eventsAfter(jobId, 0, 100).stream().filter(JobEvent::hasWebhookDelivery)
                .map(JobEvent::getWebhookDelivery).toList();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        var deadline = Instant.now().plusSeconds(30);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                fail("not within 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void replicasSharingRedisMakeEachDeliveryOnce() throws Exception {
        received.clear();
        up = true;
        try (var a = replica(); var b = replica(); var c = replica()) {
            var ids = java.util.stream.IntStream.range(0, 12).mapToObj(i -> endedJob()).toList();
            await("every job's delivery delivered", () -> ids.stream().allMatch(id -> deliveries(id).stream()
                    .anyMatch(WebhookDelivery::getDelivered)));
            // Delivered deliveries are dropped from the queue: none can be POSTed again.
            assertThat(new WebhookQueue(connection).claim(Instant.now().plus(Duration.ofDays(1)), Duration.ofSeconds(1), 100))
                    .isEmpty();
            assertThat(received).doesNotHaveDuplicates().hasSize(12);
            assertThat(ids).allSatisfy(id -> assertThat(deliveries(id)).hasSize(1));
        }
    }

    @Test
    void aDeliveryDueWhenAReplicaStopsIsMadeByAnother() throws Exception {
        received.clear();
        up = false;
        String id;
        try (var first = replica()) {
            id = endedJob();
            await("the first attempt", () -> !deliveries(id).isEmpty());
        }
        var failed = deliveries(id).getFirst();
        assertThat(failed.getStatusCode()).isEqualTo(503);
        assertThat(failed.hasNextAttemptAt()).isTrue();
        up = true;
        try (var second = replica()) {
            await("the delivery by the second replica", () -> deliveries(id).stream().anyMatch(WebhookDelivery::getDelivered));
        }
        var all = deliveries(id);
        assertThat(all.getLast().getAttempt()).isEqualTo(all.size());
        assertThat(all).extracting(WebhookDelivery::getDeliveryId).containsOnly(failed.getDeliveryId());
        assertThat(received).hasSize(all.size()).containsOnly(failed.getDeliveryId());
    }
}
