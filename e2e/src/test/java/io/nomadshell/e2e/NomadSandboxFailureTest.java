package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sandboxes that Nomad cannot run, or that die, end their jobs with an error a person understands. */
class NomadSandboxFailureTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aSandboxThatExceedsItsMemoryFailsTheJobSayingSo(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("fill-memory", dataDir, "")).build().start();
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix);
        var response = cluster.rest().post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Load the data set into memory").put("memory_mb", 256).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();

        var job = cluster.rest().awaitEnd(id, Duration.ofSeconds(180)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText())
                .isEqualTo("the sandbox was lost: the sandbox ran out of memory (limit 256 MiB) and was killed");
    }

    @Test
    void aSandboxNoNodeHasRoomForFailsTheJobAfterThePlacementDeadline(@TempDir Path dataDir) throws Exception {
        // Caps far above what a node has (24 GiB), so Nomad takes the job but cannot place it.
        var generous = new ResourcePolicy(NomadCluster.RESOURCES.defaults(), 2000, 256, 1 << 20, Duration.ofMinutes(10),
                NomadCluster.RESOURCES.egress());
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = NomadCluster.start(dataDir, model.baseUrl(), prefix,
                options -> options.placementTimeout(Duration.ofSeconds(5)), generous);
        var response = cluster.rest().post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", Fixtures.HELLO_TASK).put("memory_mb", 1 << 20).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();

        var job = cluster.rest().awaitEnd(id, Duration.ofSeconds(60)).last(); // the deadline

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        // Every client of the testbed (one or two) lacks the memory.
        assertThat(job.path("error").asText()).matches(
                "the sandbox was lost: no Nomad node could run the sandbox within 5 s: not enough memory on (1 node|2 nodes)");
    }

    @Test
    void anImageThatDoesNotExistFailsTheJobSayingSoWithinADeadline(@TempDir Path dataDir) throws Exception {
        var image = "127.0.0.1:9/nomad-shell-missing:none"; // a registry on loopback that refuses at once
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = NomadCluster.start(dataDir, model.baseUrl(), prefix, options -> options.image(image));
        var id = cluster.rest().schedule(Fixtures.HELLO_TASK);

        var job = cluster.rest().awaitEnd(id, Duration.ofSeconds(60)).last(); // the deadline

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).startsWith("the sandbox was lost: the sandbox image " + image
                + " is not on the Nomad node and could not be pulled: ");
    }
}
