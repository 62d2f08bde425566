package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schedule over REST with the Nomad launcher: Nomad dispatches the sandbox job, the daemon in the
 * container attaches, the scripted job completes, the zip downloads, and Nomad reports the
 * dispatched job dead with exit 0 and the meta that says what it was.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadEndToEndTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        var traced = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        cluster = NomadCluster.start(dataDir, model.baseUrl(), prefix, UnaryOperator.identity(), NomadCluster.RESOURCES,
                options -> options.openTelemetry(traced));
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aTaskRunsInANomadSandboxToACompleteZip() throws Exception {
        var rest = cluster.rest();
        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", Fixtures.HELLO_TASK).put("memory_mb", 384).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();

        var job = rest.awaitEnd(id, Duration.ofSeconds(180)).last();
        assertThat(job.path("status").asText()).as("final status: %s", job).isEqualTo("complete");
        assertThat(job.path("memory_mb").asInt()).isEqualTo(384);
        assertThat(job.path("cpu_mhz").asInt()).isEqualTo(500);
        assertThat(job.path("network").asText()).isEqualTo("none");
        var download = rest.getBytes("/download/" + id);
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(download.body())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "hello.py", Fixtures.HELLO_PY, "README.md", Fixtures.HELLO_README));

        var dispatched = awaitDeadDispatchedJob(id);
        var allocation = awaitEndedAllocation(dispatched.path("ID").asText());
        assertThat(dispatched.path("ParentID").asText()).isEqualTo(prefix + "-c500-m384-d256");
        assertThat(dispatched.path("Meta").path("submitter").asText()).isEqualTo(ApiKeys.LOCAL_OWNER);
        assertThat(dispatched.path("Meta").path("task").asText()).isEqualTo(Fixtures.HELLO_TASK);
        // The job's trace goes with its sandbox: the traceparent of the span that launched it.
        var launch = spans.getFinishedSpanItems().stream().filter(span -> span.getName().equals("sandbox.launch")).toList();
        assertThat(launch).singleElement().satisfies(span -> assertThat(dispatched.path("Meta").path("traceparent").asText())
                .startsWith("00-" + span.getTraceId() + "-" + span.getSpanId() + "-"));
        assertThat(allocation.path("ClientStatus").asText()).as("allocation %s", allocation).isEqualTo("complete");
        assertThat(allocation.path("DesiredStatus").asText()).as("ended by itself: %s", allocation).isEqualTo("run");
        var terminated = lastEvent(allocation, "Terminated");
        assertThat(terminated.path("Details").path("exit_code").asText()).as("event %s", terminated).isEqualTo("0");
    }

    @Test
    void resourcesOverTheCapsAreRefusedWithTheReason() {
        var response = cluster.rest().post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", Fixtures.HELLO_TASK).put("memory_mb", 999999).toString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(Rest.json(response).path("message").asText())
                .isEqualTo("memory_mb 999999 exceeds this server's cap of 2048 MiB");
    }

    private JsonNode awaitDeadDispatchedJob(String jobId) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            for (var job : NomadTestbed.dispatchedJobs(prefix)) {
                if (job.path("Meta").path("nomad_shell_job").asText().equals(jobId)) {
                    last = job;
                }
            }
            if (last != null && "dead".equals(last.path("Status").asText())) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no dead dispatched Nomad job for " + jobId + "; last seen: " + last);
    }

    private static JsonNode awaitEndedAllocation(String dispatchedJobId) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode allocation = null;
        while (System.nanoTime() < deadline) {
            var allocations = NomadTestbed.get("/v1/job/" + dispatchedJobId + "/allocations");
            assertThat(allocations).hasSize(1);
            allocation = allocations.get(0);
            if (!Set.of("pending", "running").contains(allocation.path("ClientStatus").asText())) {
                return allocation;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the allocation of " + dispatchedJobId + " did not end: " + allocation);
    }

    static JsonNode lastEvent(JsonNode allocation, String type) {
        JsonNode found = null;
        for (var event : allocation.path("TaskStates").path("sandbox").path("Events")) {
            if (type.equals(event.path("Type").asText())) {
                found = event;
            }
        }
        assertThat(found).as("a %s event in %s", type, allocation.path("TaskStates")).isNotNull();
        return found;
    }
}
