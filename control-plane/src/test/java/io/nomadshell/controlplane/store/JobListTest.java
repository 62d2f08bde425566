package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A page of the job list costs one Redis round trip, whatever its size; forgotten jobs leave it. */
class JobListTest {
    private EmbeddedRedis redis;
    private RedisConnection connection;
    private JobStore store;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection, Duration.ofMillis(1), new Leases(connection));
    }

    @AfterEach
    void stop() {
        connection.close();
        redis.close();
    }

    @Test
    void aPageOfFiftyJobsIsOneCommand() throws Exception {
        var ids = new ArrayList<String>();
        for (int i = 0; i < 60; i++) {
            ids.add(store.create(JobIds.next(), "erin", "task " + i, SandboxResources.DEFAULT,
                    Instant.ofEpochMilli(1_000_000 + i), null));
        }
        var sent = commandsSentDuring(() -> {
            var page = store.listByOwner("erin", 0, 50);
            assertThat(page.jobs()).hasSize(50);
            assertThat(page.jobs().getFirst().id()).as("newest first").isEqualTo(ids.getLast());
            assertThat(page.more()).isTrue();
        });
        assertThat(sent).as("commands the client sent for one page").hasSize(1);
        assertThat(sent.getFirst()).startsWith("\"EVALSHA\"");

        var last = store.listByOwner("erin", 50, 50);
        assertThat(last.jobs()).hasSize(10);
        assertThat(last.more()).isFalse();
    }

    @Test
    void anEndedJobPastItsRetentionIsForgottenWithEveryKeyAndItsPlaceInTheList() throws Exception {
        var id = store.create(JobIds.next(), "frank", "task", SandboxResources.DEFAULT, Instant.now(), null);
        store.transition(id, JobStatus.ERROR, "it failed", Map.of());
        var ended = store.endedBefore(Instant.now().plusSeconds(1), 10);
        assertThat(ended).containsExactly(id + ":frank");
        assertThat(store.forget(ended.getFirst())).isTrue();
        assertThat(store.forget(ended.getFirst())).as("a second sweep finds nothing").isFalse();
        assertThat(connection.commands().keys("*" + id + "*")).isEmpty();
        assertThat(store.listByOwner("frank", 0, 10).jobs()).isEmpty();
        assertThat(store.endedBefore(Instant.now().plusSeconds(1), 10)).isEmpty();
    }

    @Test
    void anIdempotencyKeyOfAForgottenJobStartsANewOne() {
        var first = store.create(JobIds.next(), "gina", "task", SandboxResources.DEFAULT, Instant.now(), "key-1");
        store.transition(first, JobStatus.CANCELLED, null, Map.of());
        store.endedBefore(Instant.now().plusSeconds(1), 10).forEach(store::forget);
        var second = store.create(JobIds.next(), "gina", "task", SandboxResources.DEFAULT, Instant.now(), "key-1");
        assertThat(second).isNotEqualTo(first);
        assertThat(store.find(second)).isPresent();
    }

    @Test
    void aCancelledJobAwaitingItsPartialZipIsKeptUntilTheZipIsDueAndTheRetentionAfter() {
        var id = store.create(JobIds.next(), "hugo", "task", SandboxResources.DEFAULT, Instant.now(), null);
        store.transition(id, JobStatus.STARTING, null, Map.of());
        var due = Instant.now().plusSeconds(60);
        store.transition(id, JobStatus.CANCELLED, null, JobStore.artifactDueBy(due));
        assertThat(store.endedBefore(Instant.now().plusSeconds(1), 10)).as("not yet past its retention").isEmpty();
        assertThat(store.endedBefore(due.plusMillis(1), 10)).containsExactly(id + ":hugo");
        assertThat(connection.commands().pttl(Keys.job(id))).isBetween(50_000L, 61_000L);
    }

    /** What clients sent to Redis while {@code action} ran, seen through MONITOR (a script's own commands left out). */
    private List<String> commandsSentDuring(ThrowingRunnable action) throws Exception {
        var monitor = new ProcessBuilder("redis-cli", "-s", redis.socket().toString(), "monitor")
                .redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        var reader = Thread.ofPlatform().daemon().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(monitor.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // The monitor was stopped.
            }
        });
        try {
            assertThat(lines.poll(10, TimeUnit.SECONDS)).as("MONITOR started").isEqualTo("OK");
            var start = "start-" + System.nanoTime();
            var end = "end-" + System.nanoTime();
            connection.commands().echo(start);
            action.run();
            connection.commands().echo(end);
            var sent = new ArrayList<String>();
            boolean inside = false;
            for (int i = 0; i < 10_000; i++) {
                var line = lines.poll(10, TimeUnit.SECONDS);
                if (line == null) {
                    fail("MONITOR never showed the end marker; saw %s", sent);
                }
                if (line.contains(end)) {
                    return sent;
                }
                if (inside && !line.contains(" lua] ")) {
                    sent.add(line.substring(line.indexOf("] ") + 2));
                }
                inside |= line.contains(start);
            }
            return fail("MONITOR showed too much");
        } finally {
            monitor.destroy();
            monitor.waitFor(5, TimeUnit.SECONDS);
            reader.join(5_000);
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
