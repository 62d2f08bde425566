package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cancelling a job whose sandbox runs on Nomad stops its allocation, and its container is gone; what
 * the job wrote comes back from the daemon, before the sandbox stops, as a partial zip.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadCancelTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("write-then-sleep", dataDir, "nomad-cancel")).build().start();
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
        // The daemon can attach before the Nomad client has told its server the allocation runs.
        var clientStatus = "";
        for (var deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                System.nanoTime() < deadline && !clientStatus.equals("running"); ) {
            clientStatus = allocation(dispatched).path("ClientStatus").asText();
            if (!clientStatus.equals("running")) {
                Rest.sleep(100);
            }
        }
        assertThat(clientStatus).as("the allocation's client status").isEqualTo("running");
        assertThat(NomadTestbed.containers(prefix)).as("the sandbox's container").hasSize(1);

        // Cancelled once it has written its notes and sleeps.
        var seen = Sse.read("http://127.0.0.1:" + cluster.port() + "/v1/jobs/" + id + "/events", Map.of(),
                events -> events.stream().anyMatch(event -> event.event().equals("tool_started")
                        && event.data().contains("exec")), Duration.ofSeconds(120));
        assertThat(seen.events()).as("events before the cancel").anyMatch(event -> event.event().equals("tool_started")
                && event.data().contains("exec"));
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

        var job = rest.status(id);
        assertThat(job.path("artifact_partial").asBoolean(false)).as("job %s", job).isTrue();
        var zip = rest.getBytes("/download/" + id);
        assertThat(zip.statusCode()).as("GET /download: %s", new String(zip.body())).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsExactlyEntriesOf(Map.of("notes/plan.txt", "nomad-cancel\n"));
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
