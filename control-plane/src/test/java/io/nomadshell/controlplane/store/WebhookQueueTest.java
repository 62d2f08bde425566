package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.quota.KeyQuota;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook queue's scripts against a real redis-server: queued with the status change, claimed once. */
class WebhookQueueTest {
    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;
    static WebhookQueue queue;
    static final Duration CLAIM = Duration.ofSeconds(30);

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection);
        queue = new WebhookQueue(connection);
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    @BeforeEach
    void emptyQueue() {
        connection.commands().del(Keys.WEBHOOKS, Keys.WEBHOOKS_DUE);
    }

    private static String job(String events) {
        var fields = events == null ? Map.<String, String>of()
                : Map.of("callback_url", "http://127.0.0.1:9/hook", "callback_events", events);
        return store.create(JobIds.next(), "alice", "build", SandboxResources.DEFAULT, Instant.now(), null,
                KeyQuota.unlimited("alice"), "", fields);
    }

    private static Instant later() {
        return Instant.now().plusSeconds(1);
    }

    @Test
    void anEndQueuesOneDeliveryThatOneClaimTakes() {
        var id = job("terminal");
        store.transition(id, JobStatus.STARTING, null, Map.of());
        store.transition(id, JobStatus.RUNNING, null, Map.of());
        assertThat(queue.claim(later(), CLAIM, 10)).as("no delivery before the end").isEmpty();
        store.transition(id, JobStatus.COMPLETE, null, Map.of());

        var claims = queue.claim(later(), CLAIM, 10);
        assertThat(claims).hasSize(1);
        assertThat(claims.getFirst().id()).isEqualTo(id + "-4");
        assertThat(claims.getFirst().record()).contains("\"job_id\":\"" + id + "\"").contains("\"status\":\"complete\"")
                .contains("\"owner\":\"alice\"").contains("http:\\/\\/127.0.0.1:9\\/hook");
        assertThat(queue.claim(later(), CLAIM, 10)).as("claimed: no one else gets it").isEmpty();
        assertThat(queue.claim(later().plus(CLAIM), CLAIM, 10)).as("a claim that ran out is due again").hasSize(1);
    }

    @Test
    void allChangesQueueADeliveryEach() {
        var id = job("all");
        store.transition(id, JobStatus.STARTING, null, Map.of());
        store.transition(id, JobStatus.RUNNING, null, Map.of());
        store.transition(id, JobStatus.ERROR, "it broke", Map.of());
        assertThat(queue.claim(later(), CLAIM, 10)).extracting(WebhookQueue.Claim::id)
                .containsExactly(id + "-2", id + "-3", id + "-4");
    }

    @Test
    void aJobWithoutACallbackQueuesNothing() {
        var id = job(null);
        store.cancel(id, Map.of());
        assertThat(queue.claim(later(), CLAIM, 10)).isEmpty();
    }

    @Test
    void settlingRetriesDropsAndRefusesALostClaim() {
        var id = job("terminal");
        store.cancel(id, Map.of());
        var first = queue.claim(later(), CLAIM, 10).getFirst();
        var retryAt = later().plusSeconds(60);
        assertThat(queue.settle(first, retryAt, "{\"attempt\":1}")).isTrue();
        assertThat(queue.claim(retryAt.minusSeconds(1), CLAIM, 10)).as("not due before its retry").isEmpty();
        var second = queue.claim(retryAt, CLAIM, 10).getFirst();
        assertThat(second.record()).isEqualTo("{\"attempt\":1}");
        assertThat(queue.settle(first, null, "{}")).as("the first claim is no longer the holder's").isFalse();
        assertThat(queue.settle(second, null, "{}")).isTrue();
        assertThat(queue.claim(retryAt.plus(CLAIM).plus(CLAIM), CLAIM, 10)).as("done: gone").isEmpty();
        assertThat(connection.commands().hlen(Keys.WEBHOOKS)).isZero();
    }

    @Test
    void replicasClaimingAtOnceEachGetDifferentDeliveries() throws Exception {
        var ids = new ArrayList<String>();
        for (int i = 0; i < 20; i++) {
            var id = job("terminal");
            store.cancel(id, Map.of());
            ids.add(id + "-2");
        }
        try (var pool = Executors.newFixedThreadPool(4)) {
            var tasks = new ArrayList<Callable<List<WebhookQueue.Claim>>>();
            for (int i = 0; i < 8; i++) {
                tasks.add(() -> queue.claim(later(), CLAIM, 3));
            }
            var claimed = new ArrayList<String>();
            for (var done : pool.invokeAll(tasks)) {
                done.get().forEach(claim -> claimed.add(claim.id()));
            }
            assertThat(claimed).doesNotHaveDuplicates().hasSize(20).containsExactlyInAnyOrderElementsOf(ids);
        }
    }
}
