package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a schedule request asks for its sandbox, with the local launcher: granted, shown, enforced. */
class SandboxResourcesTest {
    @TempDir
    Path dataDir;
    private ScriptedModelServer model;
    private TestCluster cluster;

    private Rest start(String scenario) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario(scenario, dataDir, "sandbox-resources"))
                .build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2);
        return cluster.rest();
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aJobRunsOutOfTheTimeItAskedFor() throws Exception {
        var rest = start("slow-steps");
        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Sleep twice").put("timeout_seconds", 2).put("memory_mb", 300).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();

        var job = rest.awaitEnd(id, Duration.ofSeconds(60)).last();

        assertThat(job.path("timeout_seconds").asInt()).isEqualTo(2);
        assertThat(job.path("memory_mb").asInt()).isEqualTo(300);
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).isEqualTo("the job ran out of time (limit 2 s)");
    }

    @Test
    void aLongToolCallIsCutAtTheJobsTimeout() throws Exception {
        var rest = start("sleep-forever");
        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Sleep for ten minutes").put("timeout_seconds", 3).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();

        var job = rest.awaitEnd(id, Duration.ofSeconds(60)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).isEqualTo("the job ran out of time (limit 3 s)");
    }

    @Test
    void egressIsRefusedWhereTheServerAllowsNone() throws Exception {
        var body = Rest.JSON.createObjectNode().put("task", "Sleep twice");
        body.putObject("egress").putArray("allow").add("pypi.org");
        var response = start("slow-steps").post("/schedule", "application/json", body.toString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(Rest.json(response).path("message").asText())
                .isEqualTo("egress to pypi.org is not allowed: this server allows no egress (its --egress-allow is empty)");
    }
}
