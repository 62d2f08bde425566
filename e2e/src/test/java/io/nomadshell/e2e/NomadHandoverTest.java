package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.sync.RedisCommands;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean stop (SIGTERM, as a rolling update or {@code nomad job stop} of one replica sends) hands a
 * replica's Nomad jobs over: two real servers (their own JVMs) on one Redis, the Nomad launcher, each
 * the other's Attach peer, as in {@link NomadFailoverTest}. The one driving a job is stopped while the
 * job's command runs: it lets the job go at once (says so in the job's events, and gives the lease back
 * rather than leaving it to lapse), leaves the sandbox running, and the other adopts the same Nomad job
 * and allocation; the command runs once and the job completes with everything written before and after.
 * With no replica left to adopt it, the sandbox does not outlive them for long; and a stop whose Redis
 * stalls still ends within its bound.
 */
class NomadHandoverTest {
    private static final String SLOW_CALL = "s2c0";
    /** For a sandbox that no replica will take back: it ends this long after its stream broke, not a minute. */
    private static final String[] SHORT_REATTACH = {"--sandbox-reattach-window", "10s"};

    private final String prefix = NomadCluster.newJobPrefix();
    private EmbeddedRedis redis;
    private ScriptedModelServer model;
    private ServerProcess a;
    private ServerProcess b;

    @AfterEach
    void stop() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aReplicaStoppedCleanlyHandsItsJobToTheOtherWithItsSandboxAndLeaseAtOnce(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        start(tmp);
        var sockets = Files.createDirectories(tmp.resolve("attach"));
        a = replica(tmp, "a", sockets, "b");
        b = replica(tmp, "b", sockets, "a");

        var job = a.rest().schedule("Write before, slowly in the middle, and after");
        ServerProcess survivor;
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var store = new JobStore(connection);
            var redisCommands = connection.commands();
            NomadReplicas.awaitEvent(store, job, NomadHandoverTest::slowCallStarted,
                    () -> "the slow command started\na:\n" + a.tail() + "\nb:\n" + b.tail());
            var lease = redisCommands.get("ns:lease:" + job);
            var driver = lease.contains("-" + a.pid() + "-") ? a : b;
            survivor = driver == a ? b : a;
            var sandbox = redisCommands.hget("ns:job:" + job, "sandbox_ref");
            assertThat(sandbox).as("the job's record names its sandbox").startsWith(prefix + "-");
            var allocations = NomadTestbed.allocationIds(sandbox);
            assertThat(allocations).as("the sandbox's allocation").hasSize(1);

            // Had the stopping replica left its lease to lapse, nobody could take it before this.
            var leaseWouldLapse = System.nanoTime() + Duration.ofMillis(redisCommands.pttl("ns:lease:" + job)).toNanos();
            assertThat(store.eventsAfter(job, 0, 1_000)).as("the slow command still runs at the stop")
                    .noneMatch(event -> finished(event, SLOW_CALL));
            var stopped = CompletableFuture.supplyAsync(() -> stopQuietly(driver));

            var nextLease = awaitLeaseOtherThan(redisCommands, job, lease, leaseWouldLapse);
            assertThat(stopped.get(ServerProcess.STOP_BOUND.toSeconds() + 5, TimeUnit.SECONDS))
                    .as("the driving replica stopped within %s:\n%s", ServerProcess.STOP_BOUND, driver.log()).isTrue();
            assertThat(nextLease).as("the lease changed hands while the old one had yet to lapse:\nstopped:\n%s\nsurvivor:\n%s",
                    driver.tail(), survivor.tail()).isNotNull().endsWith("/2").contains("-" + survivor.pid() + "-");

            var last = survivor.rest().awaitEnd(job, Duration.ofMinutes(3)).last();
            assertThat(last.path("status").asText()).as("%s\nsurvivor:\n%s", last, survivor.log()).isEqualTo("complete");
            assertThat(redisCommands.hget("ns:job:" + job, "lease_epoch")).as("taken over once").isEqualTo("2");
            assertThat(NomadTestbed.dispatchedJobs(prefix)).as("one sandbox, never a second")
                    .extracting(dispatched -> dispatched.path("ID").asText()).containsExactly(sandbox);
            assertThat(NomadTestbed.allocationIds(sandbox)).as("the same allocation throughout").isEqualTo(allocations);
            assertThat(survivor.log()).contains("adopting the sandbox of job " + job + ": Nomad job " + sandbox);

            var events = store.eventsAfter(job, 0, 1_000);
            var handedOver = events.stream().filter(JobEvent::hasHandedOver).toList();
            assertThat(handedOver).as("the events say the job was handed over, its sandbox kept").hasSize(1)
                    .allMatch(event -> event.getHandedOver().getSandboxKept());
            assertThat(events.stream().filter(NomadHandoverTest::slowCallStarted)).as("the slow command started once")
                    .hasSize(1);
            var slowFinished = events.stream().filter(event -> finished(event, SLOW_CALL)).toList();
            assertThat(slowFinished).as("the slow command finished once, ran to its end (not lost)").hasSize(1)
                    .allMatch(event -> event.getToolFinished().getOk());
            assertThat(events.indexOf(handedOver.getFirst())).as("handed over while the slow command ran")
                    .isLessThan(events.indexOf(slowFinished.getFirst()));
            assertThat(events.stream().filter(JobEvent::hasStatusChanged).map(event -> event.getStatusChanged().getStatus()))
                    .as("no status but the job's own: never failed or lost")
                    .containsExactly("pending", "starting", "running", "complete");
        }
        var zip = survivor.rest().getBytes("/download/" + job);
        assertThat(zip.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsEntry("before.txt", "before\n")
                .containsEntry("slow.log", "slow\n")
                .containsEntry("after.txt", "after\n");
    }

    @Test
    void aSandboxLeftForAReplicaThatNeverComesEndsWithoutOne(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        start(tmp);
        var sockets = Files.createDirectories(tmp.resolve("attach"));
        // Its peer is configured but never runs: the sandbox is left for it, and nobody lets its daemon in.
        a = replica(tmp, "a", sockets, "b", SHORT_REATTACH);

        var job = a.rest().schedule("Write before, slowly in the middle, and after");
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var store = new JobStore(connection);
            NomadReplicas.awaitEvent(store, job, NomadHandoverTest::slowCallStarted,
                    () -> "the slow command started\na:\n" + a.tail());
            var sandbox = connection.commands().hget("ns:job:" + job, "sandbox_ref");
            assertThat(a.stop()).as("stopped within %s:\n%s", ServerProcess.STOP_BOUND, a.log()).isTrue();
            assertThat(store.eventsAfter(job, 0, 1_000)).as("handed over, its sandbox left running")
                    .anyMatch(event -> event.hasHandedOver() && event.getHandedOver().getSandboxKept());
            assertThat(connection.commands().get("ns:lease:" + job)).as("the lease given back").isNull();

            // Its daemon gives up after its reattach window without a replica that lets it in; its Nomad job then ends.
            awaitEnded(sandbox);
        }
    }

    @Test
    void aStopWhileRedisStallsStillEndsWithinItsBound(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        start(tmp);
        var sockets = Files.createDirectories(tmp.resolve("attach"));
        try (var cut = StallingProxy.start(tmp.resolve("cut.sock"), redis.socket())) {
            a = NomadReplicas.start(tmp, "a", sockets, "b", prefix, cut.url(), model.baseUrl(), SHORT_REATTACH);
            var job = a.rest().schedule("Write before, slowly in the middle, and after");
            try (var connection = RedisConnection.connect(redis.url(), "test")) {
                var store = new JobStore(connection);
                NomadReplicas.awaitEvent(store, job, NomadHandoverTest::slowCallStarted,
                        () -> "the slow command started\na:\n" + a.tail());
                var sandbox = connection.commands().hget("ns:job:" + job, "sandbox_ref");
                // Its handover's writes (the event, the lease's release) now wait on a Redis that never answers.
                cut.stall();
                assertThat(a.stop()).as("stopped within %s although Redis stalls:\n%s", ServerProcess.STOP_BOUND,
                        a.log()).isTrue();
                cut.resume();
                // Its sandbox was left for a replica that never comes: its Nomad job ends on its own.
                awaitEnded(sandbox);
            }
        }
    }

    private void start(Path tmp) throws IOException {
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("write-slowly", tmp, "")).build().start();
    }

    private ServerProcess replica(Path tmp, String name, Path sockets, String peer, String... extra) throws Exception {
        return NomadReplicas.start(tmp, name, sockets, peer, prefix, redis.url(), model.baseUrl(), extra);
    }

    /**
     * The job's lease once it is no longer {@code old} (taken again, or given back and not yet taken),
     * polled until {@code lapseNanos}, when the old one would have lapsed on its own; null if it never changed.
     */
    private static String awaitLeaseOtherThan(RedisCommands<String, String> redis, String job, String old,
            long lapseNanos) {
        while (System.nanoTime() < lapseNanos) {
            var now = redis.get("ns:lease:" + job);
            if (!Objects.equals(now, old)) {
                // Given back: wait (boundedly) for the next owner's, which the caller checks.
                var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (now == null && System.nanoTime() < deadline) {
                    Rest.sleep(100);
                    now = redis.get("ns:lease:" + job);
                }
                return now;
            }
            Rest.sleep(100);
        }
        return null;
    }

    private static boolean stopQuietly(ServerProcess server) {
        try {
            return server.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean slowCallStarted(JobEvent event) {
        return event.hasToolStarted() && event.getToolStarted().getCallId().equals(SLOW_CALL);
    }

    private static boolean finished(JobEvent event, String callId) {
        return event.hasToolFinished() && event.getToolFinished().getCallId().equals(callId);
    }

    /** Waits (boundedly) until the dispatched Nomad job {@code sandbox} has ended, which it must. */
    private static void awaitEnded(String sandbox) throws Exception {
        var deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!"dead".equals(status(sandbox)) && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
        }
        assertThat(status(sandbox)).as("the sandbox nobody adopted has ended").isEqualTo("dead");
    }

    private static String status(String nomadJob) throws Exception {
        var found = NomadTestbed.get("/v1/job/" + nomadJob);
        return found == null ? "gone" : found.path("Status").asText();
    }
}
