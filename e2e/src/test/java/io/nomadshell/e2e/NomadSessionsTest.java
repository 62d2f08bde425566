package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and a rollback with the Nomad launcher: the workspace lives in the container (a tmpfs
 * that ends with it), so a job that goes on after its end gets its files back from the control
 * plane's checkpoint, in a new dispatched sandbox, byte for byte.
 */
class NomadSessionsTest {
    @Test
    void aRolledBackJobGoesOnInANewNomadSandboxWithThatStepsFiles(@TempDir Path tmp) throws Exception {
        var prefix = NomadCluster.newJobPrefix();
        try (var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("session-steps", tmp, "")).build().start();
                var cluster = NomadCluster.start(tmp.resolve("server"), model.baseUrl(), prefix)) {
            var rest = cluster.rest();
            var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                    .put("task", "Change some files").put("memory_mb", 384).toString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            var id = Rest.json(response).path("job_id").asText();
            var first = rest.awaitEnd(id, Duration.ofSeconds(180)).last();
            assertThat(first.path("status").asText()).as("%s\n%s", first, Fixtures.history(cluster.port(), id))
                    .isEqualTo("complete");
            assertThat(first.path("checkpoint_step").asInt()).isEqualTo(4);

            assertThat(rest.post("/v1/jobs/" + id + ":rollback", "application/json", "{\"step\": 2}").statusCode())
                    .isEqualTo(200);
            assertThat(rest.post("/v1/jobs/" + id + ":resume", "application/json", "{}").statusCode()).isEqualTo(200);
            var second = rest.awaitEnd(id, Duration.ofSeconds(180)).last();
            assertThat(second.path("status").asText()).as("%s\n%s", second, Fixtures.history(cluster.port(), id))
                    .isEqualTo("complete");

            // Step 3 lists what it finds (hashes, modes, links) before changing it: the same in both sandboxes.
            var listings = new ArrayList<String>();
            for (var request : model.receivedRequests()) {
                if (Fixtures.assistants(request).size() == 3) {
                    var messages = request.path("messages");
                    listings.add(messages.get(messages.size() - 1).path("content").asText());
                }
            }
            assertThat(listings).hasSize(2);
            assertThat(listings.get(0)).contains("755 ./run.sh", "./link -> f.txt", "./sub/g.txt");
            assertThat(listings.get(1)).isEqualTo(listings.get(0));
            assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).containsEntry("f.txt", "v3\n");
            assertThat(NomadTestbed.dispatchedJobs(prefix)).as("one sandbox per run").hasSize(2);
        } finally {
            NomadTestbed.assertNothingLeftAndPurge(prefix);
        }
    }
}
