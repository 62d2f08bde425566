package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server with many live local sandboxes (each idle in a long {@code exec}) is stopped: its clean
 * stop ends within the bound a supervisor gives it and leaves no sandbox process, workspace mount or
 * cgroup; after {@code kill -9} the sandboxes die with it and the next start on the same data dir
 * reclaims their mounts and cgroups.
 */
class ManySandboxesStopTest {
    /** Enough to make a serial teardown miss its bound; few enough for a shared 2-core machine. */
    private static final int SANDBOXES = 30;
    private static final Duration START_ALL = Duration.ofMinutes(5);
    private static final Duration GONE = Duration.ofSeconds(60);
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (var part : open.reversed()) {
            part.close();
        }
    }

    @Test
    void aStopWithManyLiveSandboxesEndsInItsBoundAndLeavesNothing(@TempDir Path tmp) throws Exception {
        var marker = "many-stop-" + UUID.randomUUID();
        var dataDir = tmp.resolve("data");
        var server = start(tmp, dataDir, marker, "first");
        var jobs = idle(server, marker);

        var stopping = System.nanoTime();
        var stopped = server.stop();
        System.out.printf("stopped a server with %d live sandboxes in %d ms%n", SANDBOXES,
                (System.nanoTime() - stopping) / 1_000_000);
        assertThat(stopped).as("the server stopped itself within %s\n%s", ServerProcess.STOP_BOUND, tail(server))
                .isTrue();

        assertNothingLeft(dataDir, marker, jobs, server);
    }

    @Test
    void afterKill9TheNextStartOnTheDataDirReclaimsEverything(@TempDir Path tmp) throws Exception {
        var marker = "many-kill-" + UUID.randomUUID();
        var dataDir = tmp.resolve("data");
        var first = start(tmp, dataDir, marker, "first");
        var jobs = idle(first, marker);

        first.kill();
        ServerLifelineTest.await(() -> Fixtures.processesWith(marker).isEmpty() && Leftovers.processesIn(jobs).isEmpty(),
                GONE);
        assertThat(Fixtures.processesWith(marker)).as("the sandboxes died with their server").isEmpty();
        assertThat(Leftovers.processesIn(jobs)).as("processes in the sandboxes' cgroups").isEmpty();
        assertThat(Leftovers.mountsUnder(dataDir)).as("kill -9 leaves the workspace mounts to the next start")
                .isNotEmpty();

        // A Redis that knows none of the jobs: nothing resumes, so what is left is the reclaim's alone.
        var redis = EmbeddedRedis.start(tmp.resolve("redis-second"));
        open.add(redis);
        var second = ServerProcess.start(dataDir, redis.url(), model(tmp, marker).baseUrl(), tmp.resolve("second.log"));
        open.add(second);
        assertThat(Leftovers.mountsUnder(dataDir)).as("workspace mounts after the next start\n%s", tail(second))
                .isEmpty();
        assertThat(Leftovers.cgroupsOf(jobs)).as("sandbox cgroups after the next start\n%s", tail(second)).isEmpty();
        assertThat(second.stop()).isTrue();
        assertNothingLeft(dataDir, marker, jobs, second);
    }

    private ServerProcess start(Path tmp, Path dataDir, String marker, String name) throws Exception {
        var redis = EmbeddedRedis.start(tmp.resolve("redis-" + name));
        open.add(redis);
        var server = ServerProcess.start(dataDir, redis.url(), model(tmp, marker).baseUrl(), tmp.resolve(name + ".log"),
                "--max-running", Integer.toString(SANDBOXES), "--sandbox-disk-mb", "64", "--sandbox-memory-mb", "256");
        open.add(server);
        return server;
    }

    private ScriptedModelServer model(Path tmp, String marker) throws Exception {
        var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("sleep-forever", tmp, marker)).build().start();
        open.add(model);
        return model;
    }

    /** Schedules {@link #SANDBOXES} jobs and waits until each sleeps in its sandbox; their ids. */
    private static List<String> idle(ServerProcess server, String marker) throws Exception {
        var jobs = new ArrayList<String>();
        for (int i = 0; i < SANDBOXES; i++) {
            jobs.add(server.rest().schedule("Sleep " + i));
        }
        ServerLifelineTest.await(() -> Fixtures.processesWith(marker).size() >= SANDBOXES, START_ALL);
        assertThat(Fixtures.processesWith(marker)).as("sleeping sandboxes\n%s", tail(server)).hasSizeGreaterThanOrEqualTo(SANDBOXES);
        assertThat(Leftovers.cgroupsOf(jobs)).as("the sandboxes' cgroups, while they run").isNotEmpty();
        return jobs;
    }

    private static void assertNothingLeft(Path dataDir, String marker, List<String> jobs, ServerProcess server)
            throws Exception {
        ServerLifelineTest.await(() -> Fixtures.processesWith(marker).isEmpty() && Leftovers.processesIn(jobs).isEmpty(),
                GONE);
        assertThat(Fixtures.processesWith(marker)).as("sandbox commands").isEmpty();
        assertThat(Leftovers.processesIn(jobs)).as("processes in the sandboxes' cgroups").isEmpty();
        assertThat(Leftovers.processesOn(dataDir)).as("the server and its Redis").isEmpty();
        assertThat(Leftovers.mountsUnder(dataDir)).as("workspace mounts").isEmpty();
        assertThat(Leftovers.cgroupsOf(jobs)).as("sandbox cgroups; the server's warnings:\n%s", warnings(server)).isEmpty();
    }

    private static String warnings(ServerProcess server) throws Exception {
        return String.join("\n", server.log().lines().filter(line -> line.contains("WARN")).toList());
    }

    private static String tail(ServerProcess server) {
        try {
            var log = server.log();
            return log.substring(Math.max(0, log.length() - 6000));
        } catch (java.io.IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
