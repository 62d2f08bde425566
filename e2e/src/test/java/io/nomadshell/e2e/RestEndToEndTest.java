package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Schedule over REST (JSON and plain text), follow /status to the end, download and check the zip. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RestEndToEndTest {
    private static final List<String> LIFECYCLE = List.of("pending", "starting", "running", "complete");

    private ScriptedModelServer model;
    private TestCluster cluster;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2);
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void jsonTaskRunsToACompleteZip() {
        var rest = cluster.rest();
        var id = rest.schedule(Fixtures.HELLO_TASK);
        assertJobDelivers(rest, id);
    }

    @Test
    void plainTextTaskRunsToACompleteZip() {
        var rest = cluster.rest();
        var response = rest.post("/schedule", "text/plain", Fixtures.HELLO_TASK);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText("");
        assertThat(id).isNotBlank();
        assertThat(rest.status(id).path("task").asText()).isEqualTo(Fixtures.HELLO_TASK);
        assertJobDelivers(rest, id);
    }

    private static void assertJobDelivers(Rest rest, String id) {
        var polled = rest.awaitEnd(id, Duration.ofSeconds(60));
        assertThat(polled.last().path("status").asText()).as("final status: %s", polled.last()).isEqualTo("complete");
        assertThat(LIFECYCLE).as("statuses seen %s must follow the lifecycle order", polled.statuses())
                .containsSubsequence(polled.statuses());
        var job = polled.last();
        assertThat(job.path("job_id").asText()).isEqualTo(id);
        assertThat(job.path("download_url").asText("")).as("download_url in %s", job).contains(id);
        assertThat(job.path("steps").asLong()).as("steps in %s", job).isGreaterThan(0);
        assertThat(job.path("total_tokens").asLong()).as("total_tokens in %s", job).isGreaterThan(0);
        assertThat(job.has("error")).as("no error in %s", job).isFalse();

        var download = rest.getBytes("/download/" + id);
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/zip"));
        assertThat(download.headers().firstValue("Content-Disposition")).hasValueSatisfying(
                disposition -> assertThat(disposition).startsWith("attachment"));
        assertThat(Fixtures.unzip(download.body())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "hello.py", Fixtures.HELLO_PY,
                "README.md", Fixtures.HELLO_README));
    }
}
