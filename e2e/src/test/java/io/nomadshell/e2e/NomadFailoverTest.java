package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover by re-attach: two real servers (their own JVMs) on one Redis, the Nomad launcher, their
 * Attach sockets side by side in one directory that Nomad mounts into sandboxes, each told the
 * other's address. {@code kill -9} of the one driving a job while its command runs: the other takes
 * the lease, adopts the same Nomad sandbox, whose daemon re-attaches to it; the command is not run
 * again (its line is in the file once), and the job completes with a zip holding what was written
 * before and after the kill.
 */
class NomadFailoverTest {
    private static final String SLOW_CALL = "s2c0";

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
    void theSandboxOfAKilledReplicaReattachesToTheOtherAndTheJobCompletesWithoutRunningACallTwice(@TempDir Path tmp)
            throws Exception {
        NomadTestbed.require();
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("write-slowly", tmp, "")).build().start();
        var sockets = Files.createDirectories(tmp.resolve("attach"));
        a = replica(tmp, "a", sockets, "b");
        b = replica(tmp, "b", sockets, "a");

        var job = a.rest().schedule("Write before, slowly in the middle, and after");
        ServerProcess survivor;
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var store = new JobStore(connection);
            NomadReplicas.awaitEvent(store, job,
                    event -> event.hasToolStarted() && event.getToolStarted().getCallId().equals(SLOW_CALL), () -> "the slow command started\na:\n" + a.tail() + "\nb:\n" + b.tail());
            var holder = connection.commands().get("ns:lease:" + job);
            var driver = holder.contains("-" + a.pid() + "-") ? a : b;
            survivor = driver == a ? b : a;
            assertThat(store.eventsAfter(job, 0, 1_000)).as("the slow command still runs at the kill")
                    .noneMatch(event -> event.hasToolFinished() && event.getToolFinished().getCallId().equals(SLOW_CALL));
            var sandbox = connection.commands().hget("ns:job:" + job, "sandbox_ref");
            assertThat(sandbox).as("the job's record names its sandbox").startsWith(prefix + "-");
            var allocations = NomadTestbed.allocationIds(sandbox);
            assertThat(allocations).as("the sandbox's allocation").hasSize(1);

            driver.kill();
            var last = survivor.rest().awaitEnd(job, Duration.ofMinutes(3)).last();

            assertThat(last.path("status").asText()).as("%s\nsurvivor:\n%s", last, survivor.log()).isEqualTo("complete");
            assertThat(connection.commands().hget("ns:job:" + job, "lease_epoch")).as("taken over once").isEqualTo("2");
            assertThat(NomadTestbed.dispatchedJobs(prefix)).as("one sandbox, never a second")
                    .extracting(dispatched -> dispatched.path("ID").asText()).containsExactly(sandbox);
            assertThat(NomadTestbed.allocationIds(sandbox)).as("the same allocation throughout").isEqualTo(allocations);
            assertThat(survivor.log()).contains("adopting the sandbox of job " + job + ": Nomad job " + sandbox);
            assertThat(store.eventsAfter(job, 0, 1_000).stream()
                    .filter(event -> event.hasToolStarted() && event.getToolStarted().getCallId().equals(SLOW_CALL)))
                    .as("the slow command started once").hasSize(1);
        }
        var zip = survivor.rest().getBytes("/download/" + job);
        assertThat(zip.statusCode()).isEqualTo(200);
        var files = Fixtures.unzip(zip.body());
        assertThat(files).containsEntry("before.txt", "before\n")
                .containsEntry("slow.log", "slow\n")
                .containsEntry("after.txt", "after\n");
    }

    private ServerProcess replica(Path tmp, String name, Path sockets, String peer) throws Exception {
        return NomadReplicas.start(tmp, name, sockets, peer, prefix, redis.url(), model.baseUrl());
    }
}
