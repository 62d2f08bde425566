package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Cancelling a job whose sandbox runs on Nomad stops its allocation, and its container is gone. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadCancelTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("sleep-forever", dataDir, "nomad-cancel")).build().start();
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void cancelStopsTheAllocationAndRemovesTheContainer() throws Exception {
        var rest = cluster.rest();
        var id = rest.schedule("Sleep for ten minutes");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(180));
        var dispatched = dispatchedJobOf(id);
        assertThat(allocation(dispatched).path("ClientStatus").asText()).isEqualTo("running");
        assertThat(NomadTestbed.containers(prefix)).as("the sandbox's container").hasSize(1);

        var cancel = rest.post("/v1/jobs/" + id + ":cancel", "application/json", "{}");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        assertThat(rest.status(id).path("status").asText()).isEqualTo("cancelled");

        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline
                && (!NomadTestbed.containers(prefix).isEmpty() || !ended(allocation(dispatched)))) {
            Thread.sleep(250);
        }
        assertThat(allocation(dispatched).path("ClientStatus").asText()).as("allocation after cancel")
                .isIn("complete", "failed");
        assertThat(NomadTestbed.containers(prefix)).as("containers after cancel").isEmpty();
        assertThat(rest.status(id).path("status").asText()).as("stays cancelled").isEqualTo("cancelled");
    }

    private String dispatchedJobOf(String jobId) throws Exception {
        for (var job : NomadTestbed.dispatchedJobs(prefix)) {
            if (job.path("Meta").path("nomad_shell_job").asText().equals(jobId)) {
                return job.path("ID").asText();
            }
        }
        throw new AssertionError("no dispatched Nomad job for " + jobId);
    }

    private static JsonNode allocation(String dispatchedJobId) throws Exception {
        var allocations = NomadTestbed.get("/v1/job/" + dispatchedJobId + "/allocations");
        assertThat(allocations).hasSize(1);
        return allocations.get(0);
    }

    private static boolean ended(JsonNode allocation) {
        return Set.of("complete", "failed", "lost").contains(allocation.path("ClientStatus").asText());
    }
}
