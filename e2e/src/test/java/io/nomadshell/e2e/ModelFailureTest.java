package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model errors are retried; one that persists fails the job with the endpoint's words. */
class ModelFailureTest {
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void transientModelErrorsAreRetried(@TempDir Path dataDir) throws Exception {
        var polled = run(dataDir, "model-flaky");
        assertThat(polled.last().path("status").asText()).as("%s", polled.last()).isEqualTo("complete");
        // Two failures then the answer for turn 0, then turn 1.
        assertThat(model.receivedRequests()).hasSize(4);
    }

    @Test
    void aModelThatKeepsFailingEndsTheJobWithItsError(@TempDir Path dataDir) throws Exception {
        var polled = run(dataDir, "model-down");
        assertThat(polled.last().path("status").asText()).isEqualTo("error");
        assertThat(polled.last().path("error").asText()).contains("500").contains("the model is overloaded");
        // One call and two retries.
        assertThat(model.receivedRequests()).hasSize(3);
    }

    private Rest.Polled run(Path dataDir, String scenario) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Scenario.load(Path.of(getClass().getResource("/scenarios/" + scenario + ".json").toURI())))
                .build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
        var rest = cluster.rest();
        return rest.awaitEnd(rest.schedule("Write ok.txt"), Duration.ofSeconds(60));
    }
}
