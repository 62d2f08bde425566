package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cancelling a running job ends it and kills everything its sandbox was running. */
class CancelTest {
    private final String marker = "marker-" + UUID.randomUUID();
    private ScriptedModelServer model;
    private TestCluster cluster;

    @BeforeEach
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("sleep-forever", dataDir, marker)).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2);
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void cancelStopsTheJobAndItsProcesses() {
        var rest = cluster.rest();
        var id = rest.schedule("Sleep for ten minutes");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(60));
        awaitProcesses(true, Duration.ofSeconds(30));

        var cancel = rest.post("/v1/jobs/" + id + ":cancel", "application/json", "{}");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        assertThat(Rest.json(cancel).path("status").asText()).isIn("cancelled");
        assertThat(rest.status(id).path("status").asText()).isEqualTo("cancelled");

        awaitProcesses(false, Duration.ofSeconds(20));
        assertThat(rest.status(id).path("status").asText()).as("stays cancelled").isEqualTo("cancelled");

        var again = rest.post("/v1/jobs/" + id + ":cancel", "application/json", "{}");
        assertThat(again.statusCode()).as("cancelling an ended job: %s", again.body()).isIn(400, 409);
    }

    private void awaitProcesses(boolean present, Duration timeout) {
        var deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Fixtures.processesWith(marker).isEmpty() != present) {
                return;
            }
            Rest.sleep(100);
        }
        fail("processes with %s %s after %s: %s", marker, present ? "never appeared" : "still alive",
                timeout, Fixtures.processesWith(marker));
    }
}
