package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.controlplane.pool.ProfilePool;
import io.nomadshell.controlplane.pool.WarmPoolOptions;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm pool with the Nomad launcher, on the testbed's real Nomad agent and Docker (network none,
 * the Attach socket mounted): members are dispatched sandbox jobs whose meta says pool until a job
 * claims one; each job runs in a member dispatched before it was scheduled, on a workspace that held
 * nothing, and sees only its own files; stopping the server leaves no pool job running. The janitor
 * keeps the members of a control plane whose heartbeat goes on and stops those of one that stopped
 * beating (as after {@code kill -9}).
 */
class NomadWarmPoolTest {
    private static final int POOL = 2;
    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final String OWNERS = "/v1/var/nomad-shell/pool-owners/";

    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;
    private EmbeddedRedis redis;
    private Process first;
    private final List<String> variables = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (first != null) first.destroyForcibly().waitFor();
        if (cluster != null) cluster.close();
        if (redis != null) redis.close();
        if (model != null) model.close();
        for (var variable : variables) {
            NomadTestbed.delete(OWNERS + variable);
        }
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void jobsRunInMembersDispatchedBeforeThemThatHeldNothing(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-pool-probe", dataDir, "")).build()
                .start();
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix, UnaryOperator.identity(),
                NomadCluster.RESOURCES, options -> options.warmPool(new WarmPoolOptions(POOL, Duration.ofMinutes(10),
                        4L << 30)));
        var rest = cluster.rest();

        // Before any job: two pool jobs run, attached and warmed up (the pool counts them ready).
        var deadline = System.nanoTime() + WAIT.toNanos();
        List<JsonNode> idle = List.of();
        while (System.nanoTime() < deadline) {
            idle = running();
            if (idle.size() == POOL && rest.get("/metrics").body().contains("nomadshell_pool_size{profile=\"default\"} " + POOL + ".0")) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(rest.get("/metrics").body()).contains("nomadshell_pool_size{profile=\"default\"} " + POOL + ".0");
        assertThat(idle).hasSize(POOL).allSatisfy(job -> {
            assertThat(job.path("Meta").path("pool").asText()).as("%s", job).isEqualTo("true");
            assertThat(job.path("Meta").path("nomad_shell_job").asText()).as("%s", job).startsWith("p");
            assertThat(job.path("Meta").path("pool_owner").asText()).as("%s", job).startsWith(prefix);
        });
        var idleIds = idle.stream().map(job -> job.path("ID").asText()).toList();

        // Two jobs at once: each claims a member of its own.
        var first = rest.schedule("Probe the workspace");
        var second = rest.schedule("Probe the workspace");
        var owns = new HashMap<String, String>();
        for (var id : List.of(first, second)) {
            var end = rest.awaitEnd(id, WAIT).last();
            assertThat(end.path("status").asText()).as("job %s: %s", id, end).isEqualTo("complete");
            var zip = Fixtures.unzip(rest.getBytes("/download/" + id).body());
            var own = zip.keySet().stream().filter(name -> name.startsWith("own-")).toList();
            assertThat(own).as("job %s's files: %s", id, zip.keySet()).hasSize(1);
            assertThat(zip.keySet()).as("job %s sees only its own files", id)
                    .containsExactlyInAnyOrder("seen.txt", "nomad-job.txt", own.getFirst());
            assertThat(zip.get("seen.txt").strip())
                    .as("job %s's workspace before it wrote", id).isEqualTo("seen.txt");
            owns.put(id, own.getFirst());

            // Its sandbox was a pool member dispatched before the job was scheduled.
            var nomadJob = zip.get("nomad-job.txt").strip();
            assertThat(idleIds).as("job %s ran in Nomad job %s", id, nomadJob).contains(nomadJob);
            var dispatched = NomadTestbed.get("/v1/job/" + nomadJob);
            var createdAt = Instant.parse(rest.status(id).path("created_at").asText());
            var submitted = Instant.ofEpochSecond(0, dispatched.path("SubmitTime").asLong());
            assertThat(submitted).as("dispatch of %s (job %s created %s)", nomadJob, id, createdAt).isBefore(createdAt);
            assertThat(dispatched.path("Meta").path("pool").asText()).isEqualTo("true");
        }
        assertThat(owns.get(first)).isNotEqualTo(owns.get(second));
        assertThat(Set.copyOf(idleIds)).hasSize(POOL);

        // No job was launched cold, and the pool refills with new members.
        var metrics = rest.get("/metrics").body();
        assertThat(metrics).contains("nomadshell_pool_claims_total{profile=\"default\"} 2.0",
                "nomadshell_pool_misses_total{profile=\"default\"} 0.0");
        assertThat(NomadTestbed.dispatchedJobs(prefix)).allSatisfy(job ->
                assertThat(job.path("Meta").path("pool").asText()).as("%s", job).isEqualTo("true"));
        deadline = System.nanoTime() + WAIT.toNanos();
        // ... and the claimed members end with their jobs.
        while (System.nanoTime() < deadline && !refilled(idleIds)) {
            Thread.sleep(250);
        }
        assertThat(running()).as("refilled with new members, the claimed ones ended").hasSize(POOL)
                .noneMatch(job -> idleIds.contains(job.path("ID").asText()));

        // The server's stop stops every member.
        cluster.close();
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline && !running().isEmpty()) {
            Thread.sleep(250);
        }
        assertThat(running()).as("pool jobs running after the stop").isEmpty();
    }

    /**
     * A default pool of 3 (512 MiB each) and one of 1 for 384 MiB, within a 1408 MiB budget: the members'
     * reservations stop the default pool at 2 while {@code --max-running} would allow more; a job asking
     * for 384 MiB runs in the 384 MiB member, the default ones stay idle, and the pool refills within
     * the budget.
     */
    @Test
    void aJobClaimsOnlyItsProfilesMemberAndTheBudgetCapsThePool(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-pool-probe", dataDir, "")).build()
                .start();
        var small = ProfilePool.parse("memory=384:1", NomadCluster.RESOURCES);
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix, UnaryOperator.identity(),
                NomadCluster.RESOURCES, options -> options.warmPool(new WarmPoolOptions(3, List.of(small),
                        Duration.ofMinutes(10), (512L + 512 + 384) << 20)));
        var rest = cluster.rest();
        var smallParent = prefix + "-c500-m384-d256/";
        var defaultParent = prefix + "-c500-m512-d256/";

        var deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !(reserved(smallParent, defaultParent) && poolSizes(rest, 2, 1))) {
            Thread.sleep(250);
        }
        assertThat(poolSizes(rest, 2, 1)).as(rest.get("/metrics").body()).isTrue();
        // Ten refill passes (one a second) later, still within the budget: no third default member.
        var until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < until) {
            assertThat(reserved(smallParent, defaultParent)).as("members: %s", running()).isTrue();
            Thread.sleep(500);
        }
        var idle = running().stream().map(job -> job.path("ID").asText()).toList();

        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Probe the workspace").put("memory_mb", 384).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();
        var end = rest.awaitEnd(id, WAIT).last();
        assertThat(end.path("status").asText()).as("job %s: %s", id, end).isEqualTo("complete");
        var nomadJob = Fixtures.unzip(rest.getBytes("/download/" + id).body()).get("nomad-job.txt").strip();
        assertThat(nomadJob).as("the Nomad job job %s ran in", id).startsWith(smallParent);
        assertThat(idle).contains(nomadJob);
        assertThat(rest.get("/metrics").body()).contains(
                "nomadshell_pool_claims_total{profile=\"cpu=500,memory=384,disk=256,egress=none\"} 1.0",
                "nomadshell_pool_claims_total{profile=\"default\"} 0.0");

        // The small pool refills; the default members were never claimed and no third one came.
        deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !(reserved(smallParent, defaultParent) && poolSizes(rest, 2, 1)
                && !ids(running()).contains(nomadJob))) {
            Thread.sleep(250);
        }
        var now = ids(running());
        assertThat(now).as("members after the claim").doesNotContain(nomadJob)
                .containsAll(idle.stream().filter(job -> job.startsWith(defaultParent)).toList());
        assertThat(reserved(smallParent, defaultParent)).as("members: %s", now).isTrue();
    }

    /** Whether the running members are two of the default profile and one small: 1408 MiB reserved. */
    private boolean reserved(String smallParent, String defaultParent) throws Exception {
        var ids = ids(running());
        return ids.size() == 3 && ids.stream().filter(job -> job.startsWith(defaultParent)).count() == 2
                && ids.stream().filter(job -> job.startsWith(smallParent)).count() == 1;
    }

    private static boolean poolSizes(Rest rest, int defaults, int small) {
        return rest.get("/metrics").body().contains("nomadshell_pool_size{profile=\"default\"} " + defaults + ".0")
                && rest.get("/metrics").body().contains(
                        "nomadshell_pool_size{profile=\"cpu=500,memory=384,disk=256,egress=none\"} " + small + ".0");
    }

    private static List<String> ids(List<JsonNode> jobs) {
        return jobs.stream().map(job -> job.path("ID").asText()).toList();
    }

    @Test
    void theJanitorStopsTheMembersOfAControlPlaneThatStoppedBeatingOnly(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-pool-probe", dataDir, "")).build()
                .start();
        // A first control plane registers the sandbox job and goes away.
        NomadCluster.start(dataDir.resolve("first"), model.baseUrl(), prefix).close();
        // Members of two other control planes: one whose heartbeat goes on, one that died (kill -9: its
        // heartbeat stays as it was last written). Their daemons wait for an Attach that never comes.
        var live = prefix + "-live";
        var dead = prefix + "-dead";
        beat(live);
        beat(dead);
        var liveMember = dispatchMember(live);
        var deadMember = dispatchMember(dead);

        cluster = NomadCluster.start(dataDir.resolve("second"), model.baseUrl(), prefix,
                options -> options.reconcileInterval(Duration.ofSeconds(1)).orphanGrace(Duration.ofSeconds(2)));

        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && !"dead".equals(status(deadMember))) {
            beat(live);
            Thread.sleep(500);
        }
        assertThat(status(deadMember)).as("the dead control plane's member").isEqualTo("dead");
        assertThat(NomadTestbed.get("/v1/job/" + deadMember).path("Stop").asBoolean()).isTrue();
        // Several janitor passes later, the live one's member still runs.
        for (int i = 0; i < 10; i++) {
            beat(live);
            Thread.sleep(500);
        }
        assertThat(status(liveMember)).as("the live control plane's member").isEqualTo("running");
        assertThat(NomadTestbed.get(OWNERS + dead)).as("the dead owner's record").isNull();
        NomadTestbed.delete("/v1/job/" + liveMember);
    }

    @Test
    void aKilledServersMembersAreStoppedByTheNextServersJanitor(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-pool-probe", dataDir, "")).build()
                .start();
        redis = EmbeddedRedis.start(dataDir.resolve("redis"));
        var log = dataDir.resolve("first.log");
        var java = ProcessHandle.current().info().command().orElseThrow();
        first = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dnomadshell.projectDir=" + System.getProperty("nomadshell.projectDir", ".."),
                "-Dnomadshell.daemonJar=" + System.getProperty("nomadshell.daemonJar"),
                NomadPoolServerMain.class.getName(), dataDir.resolve("first").toString(), model.baseUrl(), prefix,
                redis.url(), Integer.toString(POOL))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // Its pool is full: both members attached and warmed up.
        var deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && first.isAlive() && !poolFull(log)) {
            Thread.sleep(250);
        }
        assertThat(poolFull(log)).as("the first server's pool\n%s", Files.readString(log)).isTrue();
        var members = running();
        assertThat(members).as("members of the first server\n%s", Files.readString(log)).hasSize(POOL);

        first.destroyForcibly().waitFor();
        // Nothing ran on the way out: its members still run on Nomad.
        assertThat(running()).as("members after kill -9").hasSize(POOL);

        cluster = NomadCluster.start(dataDir.resolve("second"), model.baseUrl(), prefix,
                options -> options.reconcileInterval(Duration.ofSeconds(1)).orphanGrace(Duration.ofSeconds(2)),
                NomadCluster.RESOURCES, options -> options.redisUrl(redis.url()));
        deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && !running().isEmpty()) {
            Thread.sleep(250);
        }
        assertThat(running()).as("the killed server's members after the next server's janitor passes").isEmpty();
        for (var member : members) {
            assertThat(NomadTestbed.get("/v1/job/" + member.path("ID").asText()).path("Stop").asBoolean())
                    .as("stopped: %s", member.path("ID").asText()).isTrue();
        }
    }

    /** Whether the server whose output is {@code log} says it serves and counts a full pool. */
    private static boolean poolFull(Path log) throws Exception {
        var serving = Pattern.compile("serving on port (\\d+)").matcher(Files.readString(log));
        return serving.find() && new Rest("http://127.0.0.1:" + serving.group(1), null).get("/metrics").body()
                .contains("nomadshell_pool_size{profile=\"default\"} " + POOL + ".0");
    }

    /** The pool members running now under this test's prefix. */
    private List<JsonNode> running() throws Exception {
        return NomadTestbed.dispatchedJobs(prefix).stream()
                .filter(job -> !"dead".equals(job.path("Status").asText()))
                .filter(job -> "true".equals(job.path("Meta").path("pool").asText()))
                .toList();
    }

    private boolean refilled(List<String> before) throws Exception {
        var now = running();
        return now.size() == POOL && now.stream().noneMatch(job -> before.contains(job.path("ID").asText()));
    }

    private void beat(String owner) throws Exception {
        if (!variables.contains(owner)) {
            variables.add(owner);
        }
        var body = NomadTestbed.JSON.createObjectNode().put("Path", "nomad-shell/pool-owners/" + owner);
        body.putObject("Items").put("alive", Instant.now().toString());
        NomadTestbed.put(OWNERS + owner, body);
    }

    private String dispatchMember(String owner) throws Exception {
        var body = NomadTestbed.JSON.createObjectNode();
        body.putObject("Meta").put("nomad_shell_job", "p" + UUID.randomUUID().toString().replace("-", "").substring(0, 20))
                .put("pool", "true").put("pool_owner", owner);
        var id = NomadTestbed.post("/v1/job/" + prefix + "-c500-m512-d256/dispatch", body).path("DispatchedJobID")
                .asText();
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && !"running".equals(status(id))) {
            Thread.sleep(250);
        }
        assertThat(status(id)).as("member %s", id).isEqualTo("running");
        return id;
    }

    private static String status(String jobId) throws Exception {
        var job = NomadTestbed.get("/v1/job/" + jobId);
        return job == null ? "purged" : job.path("Status").asText();
    }
}
