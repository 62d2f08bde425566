package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Nomad client that goes away under a running sandbox: its client agent stops, Nomad marks the
 * node down and the allocation lost, and the job ends saying so in plain words, though its tool call
 * still runs in the orphaned container; the replacement Nomad places on the other node is stopped and
 * leaves nothing there. The client agent starts again afterwards as a new machine would: the testbed
 * removes the lost container, and the client restores nothing (see testbed/nomad-testbed.sh).
 */
class NomadNodeLossTest {
    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final Duration SCRIPT = Duration.ofSeconds(150);
    private static final Duration LOST_WITHIN = Duration.ofSeconds(45);

    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;
    private String stoppedClient;

    @AfterEach
    void stop() throws Exception {
        try {
            if (stoppedClient != null) {
                var started = NomadTestbed.script(SCRIPT, "start-client", stoppedClient);
                assertThat(started.exit()).as("start-client %s: %s", stoppedClient, started.output()).isZero();
            }
        } finally {
            if (cluster != null) cluster.close();
            if (model != null) model.close();
            NomadTestbed.assertNothingLeftAndPurge(prefix);
        }
    }

    @Test
    void stoppingTheClientAgentOfASandboxEndsItsJobSayingTheNodeWasLost(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("sleep-forever", tmp, "node-loss")).build().start();
        cluster = NomadCluster.start(tmp.resolve("server"), model.baseUrl(), prefix);
        var rest = cluster.rest();
        var id = rest.schedule("Sleep for ten minutes");
        Sse.read("http://127.0.0.1:" + cluster.port() + "/v1/jobs/" + id + "/events", Map.of(),
                events -> events.stream().anyMatch(event -> event.event().equals("tool_started")), WAIT);
        var sandbox = NomadTestbed.dispatchedJobs(prefix).getFirst().path("ID").asText();
        var allocation = NomadTestbed.get("/v1/job/" + sandbox + "/allocations").get(0);
        var node = allocation.path("NodeName").asText();
        var client = NomadTestbed.get("/v1/node/" + allocation.path("NodeID").asText())
                .path("Meta").path("testbed_client").asText();
        assertThat(client).as("the testbed client of node %s", node).isNotEmpty();

        var stopped = NomadTestbed.script(SCRIPT, "stop-client", client);
        assertThat(stopped.exit()).as("stop-client %s: %s", client, stopped.output()).isZero();
        stoppedClient = client;

        var stoppedAt = System.nanoTime();
        var job = rest.awaitEnd(id, WAIT).last();
        // Nomad marks the node down within its heartbeat TTL (10 s here) and grace (5 s); the job ends then,
        // though its tool call still runs in the orphaned container.
        assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).as("from stopping the client to the job's end")
                .isLessThan(LOST_WITHIN);
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).isEqualTo("the sandbox was lost: the node running the sandbox ("
                + node + ") was lost");
        // Nomad replaces a lost allocation (its daemon's credential is spent): nothing of it may stay on the other node.
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<String> elsewhere;
        while (!(elsewhere = runningElsewhere(sandbox, node)).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        assertThat(elsewhere).as("allocations and containers of the sandbox job off the lost node").isEmpty();
        assertThat(NomadTestbed.dispatchedJobs(prefix)).as("sandbox jobs").hasSize(1);
    }

    /** The sandbox job's allocations on nodes other than {@code lostNode} that run, or still have a container. */
    private static List<String> runningElsewhere(String sandbox, String lostNode) throws Exception {
        var found = new ArrayList<String>();
        for (var allocation : NomadTestbed.get("/v1/job/" + sandbox + "/allocations")) {
            if (allocation.path("NodeName").asText().equals(lostNode)) {
                continue;
            }
            var id = allocation.path("ID").asText();
            var status = allocation.path("ClientStatus").asText();
            if (status.equals("pending") || status.equals("running")) {
                found.add(id + " " + status);
            }
            var containers = NomadTestbed.run(List.of("docker", "ps", "-a", "-q", "--filter",
                    "label=com.hashicorp.nomad.alloc_id=" + id), Duration.ofSeconds(30));
            assertThat(containers.exit()).as("docker ps: %s", containers.output()).isZero();
            if (!containers.output().isBlank()) {
                found.add(id + " container " + containers.output().strip());
            }
        }
        return found;
    }
}
