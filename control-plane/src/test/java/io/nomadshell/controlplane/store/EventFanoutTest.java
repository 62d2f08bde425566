package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real redis-server: many watchers of one job, one of them far behind the shared window. */
class EventFanoutTest {
    private static final int WATCHERS = 50;
    /** More than the window holds, so a stalled watcher falls out of it. */
    private static final int EVENTS = EventFanout.WINDOW_EVENTS * 3;

    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobSignals signals;
    static JobStore store;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        signals = new JobSignals(connection);
        store = new JobStore(connection);
    }

    @AfterAll
    static void stopRedis() {
        signals.close();
        connection.close();
        redis.close();
    }

    @Test
    void everyWatcherGetsEveryEventOnceInOrderAndOneFarBehindCatchesUpFromRedis() throws Exception {
        var fanout = new EventFanout(store, signals);
        var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
        store.transition(id, JobStatus.STARTING, null, Map.of());
        store.transition(id, JobStatus.RUNNING, null, Map.of());

        var seen = new ArrayList<List<Long>>();
        var threads = new ArrayList<Thread>();
        var stalled = new CountDownLatch(1);
        var joined = new CountDownLatch(WATCHERS);
        for (int i = 0; i < WATCHERS; i++) {
            var sequences = new ArrayList<Long>();
            seen.add(sequences);
            boolean slow = i == 0;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    fanout.watch(id, 0, event -> {
                        if (sequences.isEmpty()) {
                            joined.countDown();
                        }
                        sequences.add(event.getSequence());
                        if (slow) {
                            await(stalled); // a client that stops reading after its first event
                        }
                    }, () -> false);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        assertThat(joined.await(30, TimeUnit.SECONDS)).as("every watcher got the first events").isTrue();
        assertThat(fanout.watchedJobs()).as("one reader for the job").isEqualTo(1);

        for (int i = 0; i < EVENTS; i++) {
            store.appendEvent(id, JobEvent.newBuilder().setAssistantMessage(AssistantMessage.newBuilder().setText("step " + i)));
        }
        store.transition(id, JobStatus.COMPLETE, null, Map.of());
        stalled.countDown();
        for (var thread : threads) {
            assertThat(thread.join(java.time.Duration.ofSeconds(60))).as("a watcher ended with the job").isTrue();
        }

        // pending, starting, running, the appended events, complete
        var all = LongStream.rangeClosed(1, EVENTS + 4).boxed().toList();
        assertThat(seen).allSatisfy(sequences -> assertThat(sequences).isEqualTo(all));
        assertThat(fanout.watchedJobs()).as("readers left once their watchers did").isZero();
    }

    @Test
    void aWatcherThatLeavesStopsAndTheJobsReaderWithIt() throws Exception {
        var fanout = new EventFanout(store, signals);
        var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
        var gone = new AtomicBoolean();
        var first = new CountDownLatch(1);
        var watcher = Thread.ofVirtual().start(() -> {
            try {
                fanout.watch(id, 0, event -> first.countDown(), gone::get);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
        gone.set(true);
        assertThat(watcher.join(java.time.Duration.ofSeconds(10))).as("the watch ended once the watcher left").isTrue();
        assertThat(fanout.watchedJobs()).isZero();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
