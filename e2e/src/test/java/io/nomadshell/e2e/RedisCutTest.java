package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas on one Redis; the one driving a job is cut off from Redis (its connections stall, as
 * in a partition) while the job's command prints. It must stop driving the job before its lease can
 * lapse; the other replica takes the job over (and ends it with a plain reason: a local sandbox's
 * workspace lives on the host of the replica that ran it); when the cut heals, the output the cut
 * replica had sent meanwhile reaches Redis and is refused there (fenced by the lease's epoch), so the
 * job's end stays its last event.
 */
class RedisCutTest {
    /** The dispatcher's lease TTL. */
    private static final Duration LEASE_TTL = Duration.ofSeconds(15);

    private final String marker = "marker-" + UUID.randomUUID();
    private EmbeddedRedis redis;
    private StallingProxy cut;
    private ScriptedModelServer model;
    private TestCluster first;
    private TestCluster second;

    @AfterEach
    void stop() throws Exception {
        if (first != null) first.close();
        if (second != null) second.close();
        if (cut != null) cut.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
    }

    @Test
    void aReplicaCutOffFromRedisStopsItsJobBeforeTheOtherTakesItOverAndNoLateWriteOfItsLands(@TempDir Path tmp)
            throws Exception {
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        cut = StallingProxy.start(tmp.resolve("cut.sock"), redis.socket());
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("cut.json"), """
                {"name": "cut",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments":
                     {"command": "for i in $(seq 1 6000); do echo tick-$i; sleep 0.1; done; echo %s"}}]}
                 ]}
                """.formatted(marker)))).build().start();
        first = TestCluster.start(tmp.resolve("first"), model.baseUrl(), options -> options.redisUrl(cut.url()));
        var job = first.rest().schedule("Sleep, then finish");
        first.rest().awaitStatus(job, Set.of("running"), Duration.ofSeconds(60));
        awaitProcesses(true, Duration.ofSeconds(60));
        awaitOutput(job);
        // The second replica starts once the first holds the job.
        second = TestCluster.start(tmp.resolve("second"), model.baseUrl(), options -> options.redisUrl(redis.url()));

        cut.stall();
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            // The second replica's acquisition is the lease's second epoch: by then the first's sandbox is gone.
            var deadline = System.nanoTime() + LEASE_TTL.plusSeconds(60).toNanos();
            while (!"2".equals(connection.commands().hget("ns:job:" + job, "lease_epoch"))
                    && System.nanoTime() < deadline) {
                Rest.sleep(20);
            }
            var stillRunning = Fixtures.processesWith(marker);
            assertThat(connection.commands().hget("ns:job:" + job, "lease_epoch")).as("taken over").isEqualTo("2");
            assertThat(stillRunning).as("the cut replica's sandbox when the other took the job over").isEmpty();
        }

        var last = second.rest().awaitEnd(job, Duration.ofSeconds(120)).last();
        assertThat(last.path("status").asText()).as("%s", last).isEqualTo("error");
        assertThat(last.path("error").asText()).isEqualTo(
                "the job's workspace is gone, so it cannot be resumed after its control plane stopped");

        // The cut heals: what the first replica sent meanwhile reaches Redis now, and is refused.
        cut.resume();
        first.close();
        first = null;
        cut.awaitDrained(Duration.ofSeconds(30));
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var events = new JobStore(connection).eventsAfter(job, 0, 1_000);
            var history = Fixtures.history(second.port(), job);
            assertThat(events.stream().filter(event -> event.hasStatusChanged()
                    && Set.of("complete", "error", "cancelled").contains(event.getStatusChanged().getStatus())))
                    .as("one end, the second replica's\n%s", history).hasSize(1)
                    .allSatisfy(event -> assertThat(event.getStatusChanged().getStatus()).isEqualTo("error"));
            assertThat(events.getLast().hasStatusChanged()).as("the end is the last event\n%s", history).isTrue();
            assertThat(events.stream().filter(JobEvent::hasToolStarted))
                    .as("the command started once, never again\n%s", history).hasSize(1);
        }
        assertThat(Fixtures.processesWith(marker)).as("the command was not run again").isEmpty();
    }

    /** Waits until the command's output reaches the job's events: the cut replica writes while it is cut. */
    private void awaitOutput(String job) throws Exception {
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var store = new JobStore(connection);
            var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (store.eventsAfter(job, 0, 1_000).stream().noneMatch(JobEvent::hasToolOutput)
                    && System.nanoTime() < deadline) {
                Rest.sleep(100);
            }
            assertThat(store.eventsAfter(job, 0, 1_000)).as("the command's output").anyMatch(JobEvent::hasToolOutput);
        }
    }

    private void awaitProcesses(boolean running, Duration timeout) {
        var deadline = System.nanoTime() + timeout.toNanos();
        while (Fixtures.processesWith(marker).isEmpty() == running && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(Fixtures.processesWith(marker).isEmpty()).as("the sandbox's sleep is running: %s", running)
                .isEqualTo(!running);
    }
}
