package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisConnectionException;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store behind a {@code redis-sentinel://} URL while the Sentinels promote the replica
 * ({@code SENTINEL FAILOVER}): a writer appends events all through it, and every append that
 * returned is on the new primary once, in sequence, with no gap; the queue's consumer group is there
 * too, and a job queued before the failover is handed out after it.
 */
class SentinelFailoverTest {
    @TempDir
    Path dir;
    private SentinelRedis redis;

    @AfterEach
    void stop() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void eventsAppendedAcrossAFailoverHaveNoGapAndNoDuplicate() throws Exception {
        redis = SentinelRedis.start(dir);
        int oldPrimary = redis.primaryPort();
        int replica = redis.replicaPort();
        try (var connection = RedisConnection.connect(redis.url(), "failover-test");
                var queue = new JobQueue(connection, "consumer-1")) {
            var store = new JobStore(connection);
            var queued = store.create(JobIds.next(), "alice", "queued before", SandboxResources.DEFAULT, Instant.now(), null);
            var id = store.create(JobIds.next(), "alice", "written through", SandboxResources.DEFAULT, Instant.now(), null);
            assertThat(queue.take(Duration.ofSeconds(1))).map(QueuedJob::jobId).contains(queued);

            var acknowledged = new CopyOnWriteArrayList<Integer>();
            var stop = new AtomicBoolean();
            var writer = Executors.newSingleThreadExecutor();
            var writing = writer.submit(() -> {
                for (int step = 1; !stop.get(); step++) {
                    var sequence = store.appendEvent(id, JobEvent.newBuilder()
                            .setAssistantMessage(AssistantMessage.newBuilder().setStep(step)));
                    assertThat(sequence).isPositive();
                    acknowledged.add(step);
                    Thread.sleep(5);
                }
                return null;
            });
            awaitCount(acknowledged, 50, writing);
            long started = System.nanoTime();
            redis.failover();
            redis.awaitPrimary(replica, Duration.ofSeconds(30));
            int atSwitch = acknowledged.size();
            awaitCount(acknowledged, atSwitch + 50, writing);
            long tookMillis = (System.nanoTime() - started) / 1_000_000;
            stop.set(true);
            writing.get(30, TimeUnit.SECONDS);
            writer.shutdown();
            System.out.printf("failover: %d events acknowledged, writes resumed on the new primary %d ms after SENTINEL FAILOVER%n",
                    acknowledged.size(), tookMillis);

            assertThat(redis.primaryPort()).isEqualTo(replica).isNotEqualTo(oldPrimary);
            var events = store.eventsAfter(id, 0, 100_000);
            var steps = new ArrayList<Integer>();
            for (int i = 0; i < events.size(); i++) {
                assertThat(events.get(i).getSequence()).as("no gap, no duplicate sequence").isEqualTo(i + 1L);
                if (events.get(i).hasAssistantMessage()) { // after the job's first, "pending"
                    steps.add(events.get(i).getAssistantMessage().getStep());
                }
            }
            assertThat(new HashSet<>(steps)).as("no event twice").hasSameSizeAs(steps);
            assertThat(steps).as("every acknowledged event, in order").containsSubsequence(acknowledged)
                    .containsAll(acknowledged);

            // The consumer group and its pending entry came over with the data.
            var later = store.create(JobIds.next(), "alice", "queued after", SandboxResources.DEFAULT, Instant.now(), null);
            assertThat(queue.take(Duration.ofSeconds(5))).map(QueuedJob::jobId).contains(id);
            assertThat(queue.take(Duration.ofSeconds(5))).map(QueuedJob::jobId).contains(later);
        }
    }

    /**
     * The primary's process is killed (SIGKILL: its host died), not asked to step down. Appends made
     * meanwhile wait in lettuce's queue until it reconnects to the primary the Sentinels name next, and
     * are sent there; the one in flight when the primary died, its answer lost, is sent again (see
     * {@link LostAnswerTest}): none is refused, and the events on the new primary run in sequence with no
     * gap and no duplicate. What the old primary acknowledged but had not yet sent to its replica when it died is
     * lost (asynchronous replication; on loopback none was seen): printed, not asserted.
     */
    @Test
    void eventsAppendedWhileThePrimaryIsKilledHaveNoGapAndNoDuplicate() throws Exception {
        redis = SentinelRedis.start(dir);
        int replica = redis.replicaPort();
        try (var connection = RedisConnection.connect(redis.url(), "kill-test")) {
            var store = new JobStore(connection);
            var id = store.create(JobIds.next(), "alice", "written through", SandboxResources.DEFAULT, Instant.now(), null);
            var acknowledged = new CopyOnWriteArrayList<Integer>();
            var longestWait = new AtomicLong();
            var stop = new AtomicBoolean();
            var writer = Executors.newSingleThreadExecutor();
            var writing = writer.submit(() -> {
                for (int step = 1; !stop.get(); step++) {
                    long asked = System.nanoTime();
                    var sequence = store.appendEvent(id, JobEvent.newBuilder()
                            .setAssistantMessage(AssistantMessage.newBuilder().setStep(step)));
                    longestWait.accumulateAndGet(System.nanoTime() - asked, Math::max);
                    assertThat(sequence).isPositive();
                    acknowledged.add(step);
                    Thread.sleep(5);
                }
                return null;
            });
            awaitCount(acknowledged, 50, writing);
            long killed = System.nanoTime();
            redis.killPrimary();
            redis.awaitPrimary(replica, Duration.ofSeconds(30));
            long promoted = System.nanoTime();
            awaitCount(acknowledged, acknowledged.size() + 50, writing);
            stop.set(true);
            writing.get(30, TimeUnit.SECONDS);
            writer.shutdown();

            var events = store.eventsAfter(id, 0, 100_000);
            var steps = new ArrayList<Integer>();
            for (int i = 0; i < events.size(); i++) {
                assertThat(events.get(i).getSequence()).as("no gap, no duplicate sequence").isEqualTo(i + 1L);
                if (events.get(i).hasAssistantMessage()) {
                    steps.add(events.get(i).getAssistantMessage().getStep());
                }
            }
            var lost = new ArrayList<>(acknowledged);
            lost.removeAll(steps);
            System.out.printf("kill -9 of the primary: the new primary took writes %d ms after the kill; the longest "
                    + "append waited %d ms; %d events acknowledged, lost with the old primary: %s%n",
                    (promoted - killed) / 1_000_000, longestWait.get() / 1_000_000, acknowledged.size(), lost);
            assertThat(new HashSet<>(steps)).as("no event twice").hasSameSizeAs(steps);
            assertThat(steps).as("in order").isSorted();
        }
    }

    @Test
    void malformedOrUnreachableSentinelUrlsAreRefusedInWords() throws Exception {
        assertThatThrownBy(() -> RedisConnection.connect("redis-sentinel://127.0.0.1:26379", "test"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("names no primary");
        assertThatThrownBy(() -> RedisConnection.connect("redis-sentinel://#mymaster", "test"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RedisConnection.connect("redis-sentinel://127.0.0.1:1,127.0.0.1:2#mymaster", "test"))
                .isInstanceOf(RedisConnectionException.class)
                .hasMessageStartingWith("no Sentinel at 127.0.0.1:1, 127.0.0.1:2 named a reachable primary 'mymaster'");
    }

    private static void awaitCount(List<Integer> acknowledged, int count, Future<?> writing) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (acknowledged.size() < count) {
            if (writing.isDone()) {
                writing.get(); // the writer's failure, if it failed
            }
            assertThat(System.nanoTime()).as("%d events acknowledged in time", count).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
