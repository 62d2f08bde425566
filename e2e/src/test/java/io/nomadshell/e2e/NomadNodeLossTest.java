package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Nomad client that goes away under a running sandbox: its client agent stops, Nomad marks the
 * node down and the allocation lost, and the job ends saying so in plain words, while its tool call
 * still runs on the orphaned container; nothing replaces the sandbox on the other node. The client
 * agent starts again afterwards, and removes the lost allocation's container.
 */
class NomadNodeLossTest {
    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final Duration SCRIPT = Duration.ofSeconds(150);

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

        var job = rest.awaitEnd(id, WAIT).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).isEqualTo("the sandbox was lost: the node running the sandbox ("
                + node + ") was lost");
        // Nothing took its place: one allocation, lost, on the lost node; no sandbox container elsewhere.
        var allocations = NomadTestbed.get("/v1/job/" + sandbox + "/allocations");
        assertThat(allocations).as("the sandbox job's allocations").hasSize(1);
        assertThat(allocations.get(0).path("ClientStatus").asText()).isEqualTo("lost");
        assertThat(allocations.get(0).path("NodeName").asText()).isEqualTo(node);
        assertThat(NomadTestbed.dispatchedJobs(prefix)).as("sandbox jobs").hasSize(1);
    }
}
