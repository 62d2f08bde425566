package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.offset;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.quota.KeyQuota;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A key's limits, counted and admitted in schedule.lua against a real redis-server. */
class KeyQuotaStoreTest {
    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection);
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    private static KeyQuota quota(String name, int running, int queued, long tokens, double usd) {
        return new KeyQuota(name, running, queued, tokens, usd, 0, 0);
    }

    private static String create(String owner, KeyQuota quota) {
        return store.create(JobIds.next(), owner, "task", SandboxResources.DEFAULT, Instant.now(), null, quota, "", Map.of());
    }

    private static JobException refused(String owner, KeyQuota quota) {
        return catchThrowableOfType(JobException.class, () -> create(owner, quota));
    }

    @Test
    void aKeyAtItsRunningLimitIsRefusedUntilOneOfItsJobsEnds() {
        var quota = quota("team-a", 2, 0, 0, 0);
        var first = create("owner-a", quota);
        var second = create("owner-a", quota);
        store.transition(first, JobStatus.STARTING, null, Map.of());

        var refusal = refused("owner-a", quota);
        assertThat(refusal.reason()).isEqualTo(JobException.Reason.OVER_QUOTA);
        assertThat(refusal.getMessage()).isEqualTo("API key team-a has 2 jobs queued or running, its limit "
                + "(running_jobs 2): a new job is accepted once one of them ends");
        assertThat(create("owner-other", quota)).as("another owner counts its own").isNotEmpty();

        store.cancel(second, Map.of());
        assertThat(connection.commands().sismember(Keys.ownerLive("owner-a"), second)).as("an ended job leaves").isFalse();
        assertThat(create("owner-a", quota)).isNotEmpty();
        assertThat(refused("owner-a", quota)).as("and at the limit again").isNotNull();
    }

    @Test
    void aKeyAtItsQueuedLimitIsRefusedUntilOneStarts() {
        var quota = quota("team-b", 0, 1, 0, 0);
        var first = create("owner-b", quota);

        assertThat(refused("owner-b", quota).getMessage())
                .isEqualTo("API key team-b has 1 jobs waiting to start, its limit (queued_jobs 1): "
                        + "a new job is accepted once one of them starts or ends");

        store.transition(first, JobStatus.STARTING, null, Map.of());
        var usage = store.usage("owner-b", quota);
        assertThat(usage.running()).isEqualTo(1);
        assertThat(usage.queued()).isZero();
        assertThat(create("owner-b", quota)).isNotEmpty();
    }

    @Test
    void pausedJobsHoldNothingAndJobsThatGoOnCountAgain() {
        var quota = quota("team-c", 1, 0, 0, 0);
        var first = create("owner-c", quota);
        store.transition(first, JobStatus.PAUSED, null, Map.of());
        var second = create("owner-c", quota);
        store.cancel(second, Map.of());

        assertThat(store.goOn(first)).isTrue();
        assertThat(store.usage("owner-c", quota).queued()).isEqualTo(1);
        assertThat(refused("owner-c", quota).getMessage()).contains("running_jobs 1");
    }

    @Test
    void anIdempotentRetryGetsItsJobEvenAtTheLimit() {
        var quota = quota("team-d", 1, 0, 0, 0);
        var first = store.create(JobIds.next(), "owner-d", "task", SandboxResources.DEFAULT, Instant.now(), "retry-1", quota, "", Map.of());
        var again = store.create(JobIds.next(), "owner-d", "task", SandboxResources.DEFAULT, Instant.now(), "retry-1", quota, "", Map.of());
        assertThat(again).isEqualTo(first);
        assertThat(catchThrowableOfType(JobException.class, () -> store.create(JobIds.next(), "owner-d", "task",
                SandboxResources.DEFAULT, Instant.now(), "retry-2", quota, "", Map.of()))).as("a new key is a new job").isNotNull();
    }

    @Test
    void aKeyOverItsDailyTokensIsRefusedUntilUtcMidnight() {
        var quota = quota("team-e", 0, 0, 1000, 0);
        var job = create("owner-e", quota);
        store.addUsage(job, 1, 600, 399, 0);
        assertThat(create("owner-e", quota)).as("999 of 1000").isNotEmpty();
        store.addUsage(job, 1, 1, 0, 0);

        var midnight = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
        assertThat(refused("owner-e", quota).getMessage()).isEqualTo("API key team-e used 1000 model tokens today, "
                + "its limit (tokens_per_day 1000): new jobs are accepted again at " + midnight + " (UTC midnight)");
        var usage = store.usage("owner-e", quota);
        assertThat(usage.tokensToday()).isEqualTo(1000);
        assertThat(usage.dayEnds()).isEqualTo(midnight);
        assertThat(usage.dayEnds().atOffset(ZoneOffset.UTC).getHour()).isZero();
    }

    @Test
    void aKeyOverItsDailyDollarsIsRefused() {
        var quota = quota("team-f", 0, 0, 0, 0.5);
        var job = create("owner-f", quota);
        store.addUsage(job, 1, 10, 10, 0.3);
        assertThat(create("owner-f", quota)).isNotEmpty();
        store.addUsage(job, 1, 10, 10, 0.25);

        assertThat(refused("owner-f", quota).getMessage()).startsWith("API key team-f spent $0.55")
                .contains("(usd_per_day 0.5)");
        assertThat(store.usage("owner-f", quota).usdToday()).isEqualTo(0.55, offset(1e-9));
    }

    @Test
    void replicasSchedulingAtOnceNeverAdmitPastTheLimit() throws Exception {
        var quota = quota("team-g", 3, 0, 0, 0);
        var stores = new ArrayList<JobStore>();
        var connections = new ArrayList<RedisConnection>();
        for (int i = 0; i < 4; i++) {
            var replica = RedisConnection.connect(redis.url(), "replica-" + i);
            connections.add(replica);
            stores.add(new JobStore(replica));
        }
        var admitted = new AtomicInteger();
        var refusedCount = new AtomicInteger();
        var go = new CountDownLatch(1);
        try (var pool = Executors.newFixedThreadPool(8)) {
            var tasks = new ArrayList<Callable<Void>>();
            for (int i = 0; i < 24; i++) {
                var replica = stores.get(i % stores.size());
                tasks.add(() -> {
                    go.await();
                    try {
                        replica.create(JobIds.next(), "owner-g", "task", SandboxResources.DEFAULT, Instant.now(), null, quota, "", Map.of());
                        admitted.incrementAndGet();
                    } catch (JobException e) {
                        refusedCount.incrementAndGet();
                    }
                    return null;
                });
            }
            var futures = tasks.stream().map(pool::submit).toList();
            go.countDown();
            for (var future : futures) {
                future.get();
            }
        } finally {
            connections.forEach(RedisConnection::close);
        }
        assertThat(admitted).hasValue(3);
        assertThat(refusedCount).hasValue(21);
        assertThat(store.usage("owner-g", quota).queued()).isEqualTo(3);
    }

    @Test
    void forgottenJobsLeaveTheCount() {
        var quota = quota("team-h", 1, 0, 0, 0);
        var job = create("owner-h", quota);
        connection.commands().del(Keys.job(job));
        assertThat(store.usage("owner-h", quota).queued()).isZero();
        assertThat(create("owner-h", quota)).isNotEmpty();
    }
}
