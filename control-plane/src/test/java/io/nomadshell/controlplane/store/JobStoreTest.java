package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
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
    /** How long a lease renewal may wait for Redis here. */
    static final Duration WAIT = Duration.ofSeconds(10);

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
    void leasesBelongToOneAcquisitionAtATime() throws Exception {
        var a = new Leases(connection);
        var b = new Leases(connection);
        var id = store.create(JobIds.next(), "grace", "task", SandboxResources.DEFAULT, Instant.now(), null);
        var lease = a.acquire(id, "a", Duration.ofSeconds(10)).orElseThrow();
        assertThat(lease.token()).isEqualTo("a/1");
        assertThat(b.acquire(id, "b", Duration.ofSeconds(10))).isEmpty();
        var forged = new Lease(id, "b/1");
        assertThat(b.renew(List.of(forged), Duration.ofSeconds(10), WAIT)).containsExactly(forged);
        b.release(forged);
        assertThat(a.isHeld(id)).isTrue();
        assertThat(a.renew(List.of(lease), Duration.ofSeconds(10), WAIT)).isEmpty();
        a.release(lease);
        assertThat(a.isHeld(id)).isFalse();
        assertThat(b.acquire(id, "b", Duration.ofSeconds(10))).get().extracting(Lease::token).isEqualTo("b/2");
        assertThat(a.acquire("j-no-such-job", "a", Duration.ofSeconds(10))).as("no job, nothing to own").isEmpty();
    }

    @Test
    void oneRenewalCallExtendsEveryLeaseStillHeldAndNamesTheLostOnes() throws Exception {
        var leases = new Leases(connection);
        var held = new ArrayList<Lease>();
        for (int i = 0; i < 500; i++) {
            var id = store.create(JobIds.next(), "heidi", "task", SandboxResources.DEFAULT, Instant.now(), null);
            held.add(leases.acquire(id, "a", Duration.ofSeconds(60)).orElseThrow());
        }
        var released = held.get(7);
        var takenOver = held.get(9);
        leases.release(released);
        var commands = connection.commands();
        commands.set("ns:lease:" + takenOver.jobId(), "b/2");

        assertThat(leases.renew(held, Duration.ofSeconds(600), WAIT)).containsExactly(released, takenOver);
        assertThat(commands.pttl("ns:lease:" + held.getFirst().jobId())).isGreaterThan(60_000L);
        assertThat(commands.pttl("ns:lease:" + held.getLast().jobId())).isGreaterThan(60_000L);
        assertThat(commands.get("ns:lease:" + takenOver.jobId())).isEqualTo("b/2");
        assertThat(leases.renew(List.of(), Duration.ofSeconds(600), WAIT)).isEmpty();
        held.forEach(leases::release);
    }

    /**
     * Replica a drives a job, its lease lapses (as when a is cut off from Redis past the TTL) and b
     * takes the job over: whatever a writes next about the job is refused, in Redis, and nothing of it
     * lands; b's writes do, and a user's cancel lands whoever holds the lease.
     */
    @Test
    void aReplicaThatLostAJobsLeaseCannotWriteOverItsNextOwner() throws Exception {
        var leasesA = new Leases(connection);
        var leasesB = new Leases(connection);
        var storeA = new JobStore(connection, JobStore.DEFAULT_RETENTION, leasesA);
        var contextA = new ContextStore(connection, leasesA);
        var storeB = new JobStore(connection, JobStore.DEFAULT_RETENTION, leasesB);
        var contextB = new ContextStore(connection, leasesB);
        var id = store.create(JobIds.next(), "ivan", "task", SandboxResources.DEFAULT, Instant.now(), null);
        leasesA.acquire(id, "a", Duration.ofSeconds(10)).orElseThrow();
        assertThat(storeA.transition(id, JobStatus.STARTING, null, Map.of()).applied()).isTrue();
        assertThat(storeA.transition(id, JobStatus.RUNNING, null, Map.of()).applied()).isTrue();
        contextA.appendTranscript(id, "{\"role\":\"user\"}");
        storeA.recordSandbox(id, "nomad-shell-sandbox-c1000-m1024-none/dispatch-1");

        assertThat(connection.commands().del("ns:lease:" + id)).isEqualTo(1L);
        var leaseB = leasesB.acquire(id, "b", Duration.ofSeconds(10)).orElseThrow();
        assertThat(leaseB.token()).isEqualTo("b/2");
        var eventsBefore = store.eventsAfter(id, 0, 100);

        var step = JobEvent.newBuilder().setAssistantMessage(AssistantMessage.newBuilder().setStep(1));
        List<ThrowingCallable> writesOfA = List.of(
                () -> storeA.appendEvent(id, step),
                () -> storeA.transition(id, JobStatus.COMPLETE, null, Map.of("summary", "stale")),
                () -> storeA.addUsage(id, 1, 100, 100, 0.5),
                () -> storeA.recordKept(id, KeptWorkspace.Nothing.noFiles("stale")),
                () -> contextA.appendTranscript(id, "{\"role\":\"assistant\"}"),
                () -> contextA.putOutput(id, "stale output"),
                () -> contextA.saveNotes(id, "stale notes"),
                () -> contextA.saveSummary(id, "stale summary", 3),
                () -> storeA.recordSandbox(id, "nomad-shell-sandbox-c1000-m1024-none/dispatch-stale"));
        for (var write : writesOfA) {
            assertThatThrownBy(write).isInstanceOf(LeaseLostException.class).hasMessageContaining("refused");
        }
        var job = store.find(id).orElseThrow();
        assertThat(job.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(job.steps()).isZero();
        assertThat(store.eventsAfter(id, 0, 100)).isEqualTo(eventsBefore);
        assertThat(contextB.transcript(id)).containsExactly("{\"role\":\"user\"}");
        assertThat(contextB.state(id)).isEqualTo(new ContextStore.State("", 0, ""));
        assertThat(contextB.output(id, "o1")).isEmpty();
        assertThat(storeB.sandboxOf(id)).as("the sandbox the next owner adopts")
                .contains("nomad-shell-sandbox-c1000-m1024-none/dispatch-1");
        assertThat(leasesA.renew(List.of(new Lease(id, "a/1")), Duration.ofSeconds(10), WAIT)).hasSize(1);

        assertThat(storeB.appendEvent(id, step)).isEqualTo(eventsBefore.size() + 1L);
        contextB.appendTranscript(id, "{\"role\":\"assistant\"}");
        assertThat(contextB.transcript(id)).hasSize(2);
        assertThat(storeA.cancel(id, Map.of()).applied()).as("a user's cancel, through any replica").isTrue();
        assertThat(store.find(id).orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
        leasesB.release(leaseB);
    }
}
