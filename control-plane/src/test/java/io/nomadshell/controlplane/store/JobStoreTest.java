package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.artifact.KeptWorkspace;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real redis-server (the embedded one the control plane starts). */
class JobStoreTest {
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

    @Test
    void aNewJobIsPendingQueuedAndHasItsFirstEvent() {
        var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
        var job = store.find(id).orElseThrow();
        assertThat(job.status()).isEqualTo(JobStatus.PENDING);
        assertThat(job.owner()).isEqualTo("alice");
        var events = store.eventsAfter(id, 0, 10);
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getSequence()).isEqualTo(1);
        assertThat(events.get(0).getStatusChanged().getStatus()).isEqualTo("pending");
    }

    @Test
    void aCancelledJobWaitsForItsPartialZipUntilItIsRecorded() {
        var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
        store.transition(id, JobStatus.STARTING, null, Map.of());
        store.transition(id, JobStatus.RUNNING, null, Map.of());
        var dueBy = Instant.now().plusSeconds(60);
        store.transition(id, JobStatus.CANCELLED, null, JobStore.artifactDueBy(dueBy));
        var cancelled = store.find(id).orElseThrow();
        assertThat(cancelled.artifactComing(Instant.now())).isTrue();
        assertThat(cancelled.artifactComing(dueBy)).as("a bounded wait").isFalse();

        store.recordKept(id, new KeptWorkspace.Zip(1234, "ab12", true));

        var kept = store.find(id).orElseThrow();
        assertThat(kept.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(kept.artifactComing(Instant.now())).isFalse();
        assertThat(kept.artifactPartial()).isTrue();
        assertThat(kept.artifactBytes()).isEqualTo(1234);
        assertThat(kept.artifactNote()).isNull();
    }

    @Test
    void aFailedJobThatKeptNothingSaysWhy() {
        var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
        store.transition(id, JobStatus.STARTING, null, Map.of());
        store.transition(id, JobStatus.ERROR, "the model failed",
                JobStore.fieldsOf(KeptWorkspace.Nothing.noFiles("its workspace was empty")));

        var job = store.find(id).orElseThrow();
        assertThat(job.artifactPartial()).isFalse();
        assertThat(job.artifactBytes()).isZero();
        assertThat(job.artifactNote()).isEqualTo("left no files (its workspace was empty)");
    }

    @Test
    void aJobKeepsTheSandboxResourcesItWasGranted() {
        var granted = new SandboxResources(500, 384, Duration.ofSeconds(90), List.of("pypi.org", "*.example.org"));
        var id = store.create(JobIds.next(), "alice", "build it", granted, Instant.now(), null);

        assertThat(store.find(id).orElseThrow().sandbox()).isEqualTo(granted);
    }

    @Test
    void theSameIdempotencyKeyReturnsTheSameJobAndWritesNothing() {
        var first = store.create(JobIds.next(), "bob", "task", SandboxResources.DEFAULT, Instant.now(), "key-1");
        var second = store.create(JobIds.next(), "bob", "task", SandboxResources.DEFAULT, Instant.now(), "key-1");
        var otherOwner = store.create(JobIds.next(), "carol", "task", SandboxResources.DEFAULT, Instant.now(), "key-1");
        assertThat(second).isEqualTo(first);
        assertThat(otherOwner).isNotEqualTo(first);
        assertThat(store.listByOwner("bob", 0, 10).jobs()).hasSize(1);
    }

    @Test
    void transitionsFollowTheArrowsOnly() {
        var id = store.create(JobIds.next(), "dave", "task", SandboxResources.DEFAULT, Instant.now(), null);
        assertThat(store.transition(id, JobStatus.RUNNING, null, Map.of()).applied()).as("pending -> running").isFalse();
        assertThat(store.transition(id, JobStatus.STARTING, null, Map.of()).applied()).isTrue();
        assertThat(store.transition(id, JobStatus.RUNNING, null, Map.of()).applied()).isTrue();
        assertThat(store.activeJobs()).contains(id);
        assertThat(store.transition(id, JobStatus.ERROR, "it broke", Map.of()).applied()).isTrue();
        var refused = store.transition(id, JobStatus.COMPLETE, null, Map.of());
        assertThat(refused.applied()).isFalse();
        assertThat(refused.previous()).isEqualTo(JobStatus.ERROR);
        var job = store.find(id).orElseThrow();
        assertThat(job.error()).isEqualTo("it broke");
        assertThat(job.startedAt()).isNotNull();
        assertThat(job.finishedAt()).isNotNull();
        assertThat(store.activeJobs()).doesNotContain(id);
    }

    @Test
    void concurrentCancelAndStartLetExactlyOneWin() throws Exception {
        try (var pool = Executors.newFixedThreadPool(8)) {
            for (int round = 0; round < 20; round++) {
                var id = store.create(JobIds.next(), "erin", "task", SandboxResources.DEFAULT, Instant.now(), null);
                var attempts = new ArrayList<Future<Boolean>>();
                for (int i = 0; i < 8; i++) {
                    var target = i % 2 == 0 ? JobStatus.STARTING : JobStatus.CANCELLED;
                    attempts.add(pool.submit(() -> store.transition(id, target, null, Map.of()).applied()));
                }
                int applied = 0;
                for (var attempt : attempts) {
                    applied += attempt.get() ? 1 : 0;
                }
                // Either one cancel wins, or one start then one cancel (starting -> cancelled).
                assertThat(applied).isBetween(1, 2);
                assertThat(store.find(id).orElseThrow().status()).isIn(JobStatus.STARTING, JobStatus.CANCELLED);
            }
        }
    }

    @Test
    void eventsResumeAfterTheLastSequenceSeen() {
        var id = store.create(JobIds.next(), "frank", "task", SandboxResources.DEFAULT, Instant.now(), null);
        for (int i = 1; i <= 5; i++) {
            store.appendEvent(id, JobEvent.newBuilder().setAssistantMessage(AssistantMessage.newBuilder().setStep(i)));
        }
        var rest = store.eventsAfter(id, 3, 100);
        assertThat(rest).extracting(JobEvent::getSequence).containsExactly(4L, 5L, 6L);
        assertThat(rest.get(0).getAssistantMessage().getStep()).isEqualTo(3);
    }

    @Test
    void leasesBelongToOneHolder() {
        var leases = new Leases(connection);
        assertThat(leases.acquire("jlease", "a", Duration.ofSeconds(10))).isTrue();
        assertThat(leases.acquire("jlease", "b", Duration.ofSeconds(10))).isFalse();
        assertThat(leases.renew(List.of("jlease"), "b", Duration.ofSeconds(10))).containsExactly("jlease");
        leases.release("jlease", "b");
        assertThat(leases.isHeld("jlease")).isTrue();
        assertThat(leases.renew(List.of("jlease"), "a", Duration.ofSeconds(10))).isEmpty();
        leases.release("jlease", "a");
        assertThat(leases.isHeld("jlease")).isFalse();
    }

    @Test
    void oneRenewalCallExtendsEveryLeaseStillHeldAndNamesTheLostOnes() {
        var leases = new Leases(connection);
        var held = new ArrayList<String>();
        for (int i = 0; i < 500; i++) {
            var id = "jmany" + i;
            assertThat(leases.acquire(id, "a", Duration.ofSeconds(2))).isTrue();
            held.add(id);
        }
        leases.release("jmany7", "a");
        assertThat(leases.acquire("jmany9", "b", Duration.ofSeconds(2))).isFalse();
        var commands = connection.commands();
        commands.set("ns:lease:jmany9", "b");

        assertThat(leases.renew(held, "a", Duration.ofSeconds(60))).containsExactly("jmany7", "jmany9");
        assertThat(commands.pttl("ns:lease:jmany0")).isGreaterThan(2_000L);
        assertThat(commands.pttl("ns:lease:jmany499")).isGreaterThan(2_000L);
        assertThat(commands.get("ns:lease:jmany9")).isEqualTo("b");
        assertThat(leases.renew(List.of(), "a", Duration.ofSeconds(60))).isEmpty();
    }
}
