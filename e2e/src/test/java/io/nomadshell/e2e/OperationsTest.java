package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prometheus metrics and the readiness probe, which follows Redis. */
class OperationsTest {
    private ScriptedModelServer model;
    private TestCluster cluster;
    private Path dataDir;

    @BeforeEach
    void start(@TempDir Path dataDir) throws Exception {
        this.dataDir = dataDir.toAbsolutePath();
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2);
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void metricsCountJobsRequestsAndStreams() {
        var rest = cluster.rest();
        var id = rest.schedule(Fixtures.HELLO_TASK);
        rest.awaitEnd(id, Duration.ofSeconds(90));

        var metrics = rest.get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
        assertThat(metrics.body())
                .contains("nomadshell_jobs_active 0.0")
                .contains("nomadshell_jobs_queued")
                .contains("nomadshell_tunnels_open 0.0")
                .contains("nomadshell_event_watchers 0.0")
                // The job's path: each state once, a sandbox made ready, tools timed, tokens counted.
                .contains("nomadshell_jobs_transitions_total{status=\"complete\"} 1.0")
                .contains("nomadshell_jobs_transitions_total{status=\"pending\"} 1.0")
                .contains("nomadshell_jobs_transitions_total{status=\"running\"} 1.0")
                .contains("nomadshell_sandbox_ready_seconds_count 1")
                .containsPattern("nomadshell_tool_duration_seconds_count\\{ok=\"true\",tool=\"write_file\"} 2")
                .containsPattern("nomadshell_tool_duration_seconds_count\\{ok=\"true\",tool=\"exec\"} 1")
                .containsPattern("nomadshell_model_calls_total [1-9]")
                .containsPattern("nomadshell_model_tokens_total\\{kind=\"prompt\"} [1-9]")
                // The schedule call, counted by Armeria per service and method (Attach has a listener of its own).
                .containsPattern("armeria_server_requests_total\\{[^}]*method=\"Schedule\"");
    }

    @Test
    void readinessFollowsRedis() throws Exception {
        var ready = cluster.rest().get("/internal/readiness");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(ready.body()).contains("\"ready\"");

        // The embedded redis-server writes its pid beside its data (its command line no longer names the dir).
        var pid = Long.parseLong(Files.readString(dataDir.resolve("redis").resolve("redis.pid")).strip());
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        var deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        var status = 200;
        while (status == 200 && System.nanoTime() < deadline) {
            status = cluster.rest().get("/internal/readiness").statusCode();
        }
        assertThat(status).isEqualTo(503);
        assertThat(cluster.rest().get("/internal/healthcheck").statusCode()).as("still alive, just not ready").isEqualTo(200);
    }
}
