package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.pool.ProfilePool;
import io.nomadshell.controlplane.pool.WarmPoolOptions;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm pool with real bubblewrap sandboxes and the real daemon: a job's sandbox was started before
 * the job was scheduled, as a pool member with an empty workspace attached under a member id (no job's
 * credential); it becomes the job's only at the claim, when the job's host workspace starts holding
 * what the agent writes; two jobs in a row each see only their own files; the pool refills; stopping
 * the server leaves no member process, workspace or mount behind.
 */
class WarmPoolTest {
    private static final int POOL = 2;
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dataDir;
    private ScriptedModelServer model;
    private TestCluster cluster;
    private EmbeddedRedis redis;
    private ServerProcess first;
    private ServerProcess second;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (second != null) second.close();
        if (first != null) first.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
    }

    @Test
    void jobsClaimWarmSandboxesThatHoldNothingOfAnyJobBefore() throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("pool-probe", dataDir, "")).build().start();
        var server = dataDir.resolve("server");
        cluster = TestCluster.start(server, model.baseUrl(), options -> options
                .maxRunning(4)
                .warmPool(new WarmPoolOptions(POOL, Duration.ofMinutes(10), 4L << 30)));
        var rest = cluster.rest();
        var workspaces = server.resolve("workspaces");
        var logs = server.resolve("sandbox-logs");

        // Before any job: the members run, each on an empty workspace, attached as a pool member.
        var idle = await("a full pool", () -> idleMembers().size() == POOL && attachedMembers(logs) == POOL
                ? Optional.of(idleMembers()) : Optional.empty());
        assertThat(rest.get("/v1/jobs").body()).doesNotContain("\"j");
        var memberLogs = memberLogs(logs);
        assertThat(memberLogs).hasSize(POOL);
        for (var log : memberLogs) {
            assertThat(Files.readString(log)).as(log.toString()).doesNotContain("claimed by job", "attached to job j");
        }

        String firstOwn = null;
        for (int round = 1; round <= 2; round++) {
            var id = rest.schedule("Probe the workspace");
            var workspace = workspaces.resolve(id);
            var seen = workspace.resolve("seen.txt");
            var own = await("the job's files on the host", () -> ownFile(workspace));

            // Its sandbox is a member started before the job was scheduled.
            var createdAt = Instant.parse(rest.status(id).path("created_at").asText());
            var daemon = daemonWith(own).orElseThrow(() -> new AssertionError("no daemon holds " + own));
            assertThat(startOf(daemon)).as("start of the daemon of job %s (created %s)", id, createdAt)
                    .isBefore(createdAt);
            var jobLog = logs.resolve(id + ".log");
            var member = memberLogs.stream().filter(log -> sameFile(log, jobLog)).findFirst()
                    .orElseThrow(() -> new AssertionError("job " + id + " ran in no pool member: " + memberLogs));
            var memberText = Files.readString(member);
            assertThat(memberText.indexOf("attached to job p")).as(memberText).isNotNegative()
                    .isLessThan(memberText.indexOf("claimed by job " + id));

            // It saw only what it wrote itself: nothing of the job before it.
            assertThat(Files.readString(seen).strip()).as("job %s's workspace before it wrote", id).isEqualTo("seen.txt");
            assertThat(own).isNotEqualTo(firstOwn);
            firstOwn = own;

            Files.createFile(workspace.resolve("go"));
            var end = rest.awaitEnd(id, WAIT).last();
            assertThat(end.path("status").asText()).as("job %s: %s", id, end).isEqualTo("complete");
            var zip = Fixtures.unzip(rest.getBytes("/download/" + id).body());
            assertThat(zip.keySet()).contains("seen.txt", own);
        }

        // The pool refills, with new members (a member is never given back).
        var refilled = await("a refilled pool", () -> rest.get("/metrics").body().contains("nomadshell_pool_size{profile=\"default\"} " + POOL + ".0")
                && idleMembers().size() == POOL ? Optional.of(idleMembers()) : Optional.empty());
        assertThat(refilled).doesNotContainAnyElementsOf(idle);
        assertThat(rest.get("/metrics").body()).contains("nomadshell_pool_claims_total{profile=\"default\"} 2.0",
                "nomadshell_pool_misses_total{profile=\"default\"} 0.0");

        cluster.close();
        assertThat(sandboxProcesses()).as("sandbox processes after the stop").isEmpty();
        try (Stream<Path> left = Files.list(workspaces)) {
            assertThat(left.map(Path::getFileName).map(Path::toString).toList()).as("workspaces after the stop")
                    .noneMatch(name -> name.startsWith("p"));
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(workspaces.toString());
    }

    /**
     * Pools of two profiles: a job that asks for the other profile's resources runs in that profile's
     * member and leaves the default profile's member idle; a job of a third profile, kept by no pool,
     * claims neither and starts cold.
     */
    @Test
    void aJobClaimsOnlyAMemberOfItsOwnProfile() throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("pool-probe", dataDir, "")).build().start();
        var server = dataDir.resolve("server");
        var logs = server.resolve("sandbox-logs");
        var workspaces = server.resolve("workspaces");
        var small = ProfilePool.parse("memory=768:1", ResourcePolicy.DEFAULT);
        var smallSize = "nomadshell_pool_size{profile=\"cpu=1000,memory=768,disk=4096,egress=none\"} 1.0";
        cluster = TestCluster.start(server, model.baseUrl(), options -> options
                .maxRunning(4)
                .warmPool(new WarmPoolOptions(1, List.of(small), Duration.ofMinutes(10), 4L << 30)));
        var rest = cluster.rest();
        await("both pools full", () -> attachedMembers(logs) == 2 && rest.get("/metrics").body().contains(smallSize)
                && rest.get("/metrics").body().contains("nomadshell_pool_size{profile=\"default\"} 1.0")
                ? Optional.of(true) : Optional.empty());
        var members = memberLogs(logs);

        // A job of the small profile runs in a member started before it: the small one.
        var id = schedule(rest, 768);
        var own = await("the small job's files on the host", () -> ownFile(workspaces.resolve(id)));
        var claimed = members.stream().filter(log -> sameFile(log, logs.resolve(id + ".log"))).toList();
        assertThat(claimed).as("the member job %s ran in, of %s", id, members).hasSize(1);
        Files.createFile(workspaces.resolve(id).resolve("go"));
        assertThat(rest.awaitEnd(id, WAIT).last().path("status").asText()).isEqualTo("complete");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body()).keySet()).contains(own);
        var metrics = rest.get("/metrics").body();
        assertThat(metrics).contains(
                "nomadshell_pool_claims_total{profile=\"cpu=1000,memory=768,disk=4096,egress=none\"} 1.0",
                "nomadshell_pool_claims_total{profile=\"default\"} 0.0");

        // A job of a profile no pool keeps starts cold, in a sandbox of its own.
        var cold = schedule(rest, 640);
        await("the cold job's files on the host", () -> ownFile(workspaces.resolve(cold)));
        assertThat(memberLogs(logs)).as("member logs").noneMatch(log -> sameFile(log, logs.resolve(cold + ".log")));
        Files.createFile(workspaces.resolve(cold).resolve("go"));
        assertThat(rest.awaitEnd(cold, WAIT).last().path("status").asText()).isEqualTo("complete");

        // The default profile's member was never claimed.
        var defaultMember = members.stream().filter(log -> !log.equals(claimed.getFirst())).findFirst().orElseThrow();
        assertThat(Files.readString(defaultMember)).as(defaultMember.toString()).doesNotContain("claimed by job");
        assertThat(rest.get("/metrics").body()).contains("nomadshell_pool_claims_total{profile=\"default\"} 0.0",
                "nomadshell_pool_misses_total{profile=\"default\"} 0.0",
                "nomadshell_pool_misses_total{profile=\"cpu=1000,memory=768,disk=4096,egress=none\"} 0.0");
    }

    private static String schedule(Rest rest, int memoryMb) throws Exception {
        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Probe the workspace").put("memory_mb", memoryMb).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Rest.json(response).path("job_id").asText();
    }

    /** A member idle past the TTL is replaced by a fresh one; the old one's processes and workspace are gone. */
    @Test
    void idleMembersAreReplacedAfterTheirTtl() throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("pool-probe", dataDir, "")).build().start();
        var server = dataDir.resolve("server");
        var logs = server.resolve("sandbox-logs");
        cluster = TestCluster.start(server, model.baseUrl(), options -> options
                .maxRunning(2)
                .warmPool(new WarmPoolOptions(1, Duration.ofSeconds(3), 4L << 30)));

        var first = await("a member", () -> attachedMembers(logs) >= 1
                ? memberIds(logs).stream().findFirst() : Optional.empty());
        await("a member replacing " + first, () -> attachedMembers(logs) >= 2 && Fixtures.processesWith(first).isEmpty()
                && !Files.exists(server.resolve("workspaces").resolve(first)) ? Optional.of(true) : Optional.empty());
    }

    /**
     * {@code kill -9} of a server with a warm pool, one member claimed by a running job: every member
     * dies with it, and the next start puts the claimed member's files where the job's workspace is
     * (the job resumes with them) and removes the unclaimed members' workspaces.
     */
    @Test
    void aKilledServerLeavesNoMemberAndItsJobKeepsItsFiles(@TempDir Path tmp) throws Exception {
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("pool-probe", dataDir, "")).build().start();
        var server = dataDir.resolve("server");
        var logs = server.resolve("sandbox-logs");
        var workspaces = server.resolve("workspaces");
        first = ServerProcess.start(server, redis.url(), model.baseUrl(), tmp.resolve("first.log"), "--warm-pool", "2");
        await("a full pool", () -> attachedMembers(logs) == POOL ? Optional.of(true) : Optional.empty());

        var id = first.rest().schedule("Probe the workspace");
        var own = await("the job's files on the host", () -> ownFile(workspaces.resolve(id)));
        var members = memberIds(logs);
        first.kill();
        for (var member : members) {
            await("the end of member " + member, () -> Fixtures.processesWith(member).isEmpty()
                    ? Optional.of(true) : Optional.empty());
        }

        second = ServerProcess.start(server, redis.url(), model.baseUrl(), tmp.resolve("second.log"));
        try (Stream<Path> left = Files.list(workspaces)) {
            assertThat(left.map(Path::getFileName).map(Path::toString).toList()).as("workspaces after the restart")
                    .noneMatch(name -> name.startsWith("p"));
        }
        // In the job's workspace (on its disk, mounted again when the job resumes).
        await("the claimed member's file in the resumed job's workspace",
                () -> Files.exists(workspaces.resolve(id).resolve(own)) ? Optional.of(true) : Optional.empty());
        Files.createFile(workspaces.resolve(id).resolve("go"));
        var end = second.rest().awaitEnd(id, WAIT).last();
        assertThat(end.path("status").asText()).as("%s\n%s", end, second.log()).isEqualTo("complete");
        assertThat(Fixtures.unzip(second.rest().getBytes("/download/" + id).body()).keySet()).contains(own);
    }

    private static final String DAEMON_DIR = "/opt/nomad-shell/daemon/";

    /** Pids of daemon JVMs (in any sandbox) whose workspace is empty. */
    private static List<Long> idleMembers() {
        return daemons().stream().filter(pid -> {
            try (Stream<Path> entries = Files.list(Path.of("/proc", pid.toString(), "root/workspace"))) {
                return entries.findAny().isEmpty();
            } catch (IOException gone) {
                return false;
            }
        }).toList();
    }

    /** Pids of the daemon JVMs this test's server started (others may run sandboxes on this host too). */
    private static List<Long> daemons() {
        return sandboxProcesses().stream().filter(pid -> {
            try {
                var argv0 = Files.readString(Path.of("/proc", pid.toString(), "cmdline")).split("\0", 2)[0];
                return argv0.endsWith("/bin/java");
            } catch (IOException gone) {
                return false;
            }
        }).toList();
    }

    private static List<Long> sandboxProcesses() {
        var mine = ProcessHandle.current().descendants().map(ProcessHandle::pid).toList();
        return Fixtures.processesWith(DAEMON_DIR).stream().filter(mine::contains).toList();
    }

    private static Optional<Long> daemonWith(String file) {
        return daemons().stream()
                .filter(pid -> Files.exists(Path.of("/proc", pid.toString(), "root/workspace", file)))
                .findFirst();
    }

    /** When a process started, from its start in clock ticks since boot and the uptime (10 ms precision). */
    private static Instant startOf(long pid) throws IOException {
        var stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long startTicks = Long.parseLong(fields[19]); // field 22 of stat; fields here start at 3
        double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        long agoMillis = (long) (uptime * 1000) - startTicks * 10;
        return Instant.now().minusMillis(agoMillis);
    }

    /** Members whose daemon says it attached, as a pool member (the Welcome names the member, not a job). */
    private static long attachedMembers(Path logs) {
        try {
            return memberLogs(logs).stream().filter(log -> {
                try {
                    return Files.readString(log).contains("attached to job p");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static List<String> memberIds(Path logs) {
        try {
            return memberLogs(logs).stream().map(log -> log.getFileName().toString().replace(".log", "")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<Path> memberLogs(Path logs) throws IOException {
        try (Stream<Path> files = Files.list(logs)) {
            return files.filter(file -> file.getFileName().toString().matches("p[a-z2-7]{20}\\.log")).toList();
        }
    }

    /** The file the job made with a name of its own, once it is there. */
    private static Optional<String> ownFile(Path workspace) {
        try (Stream<Path> files = Files.list(workspace)) {
            var own = files.map(path -> path.getFileName().toString()).filter(name -> name.startsWith("own-")).toList();
            assertThat(own).as("own files in %s", workspace).hasSizeLessThanOrEqualTo(1);
            return own.stream().findFirst();
        } catch (IOException notYet) {
            return Optional.empty();
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    private static <T> T await(String what, Supplier<Optional<T>> probe) {
        var deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            var found = probe.get();
            if (found.isPresent()) {
                return found.get();
            }
            Rest.sleep(50);
        }
        return fail("no " + what + " within " + WAIT);
    }
}
