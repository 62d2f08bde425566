package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A control plane that starts finds the sandboxes Nomad still runs for jobs its Redis does not
 * know as active (left by a control plane that died), stops them, removes their launch credentials,
 * and purges them after the retention period.
 */
class NomadReconcileTest {
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
    void anOrphanedSandboxIsStoppedAndLaterPurged(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        // A first control plane registers the sandbox job and goes away.
        NomadCluster.start(dataDir.resolve("first"), model.baseUrl(), prefix).close();
        // What it would have left had it died mid-job: a dispatched sandbox whose daemon waits for
        // a control plane that is gone (its socket directory stays empty), and its launch credential
        // in the variable the task renders it from.
        var credentials = NomadTestbed.credentialsPath(prefix + "-c500-m512-d256");
        var variable = NomadTestbed.JSON.createObjectNode().put("Path", credentials);
        variable.putObject("Items").put("jorphanorphanorphan0", "no-such-token");
        NomadTestbed.put("/v1/var/" + credentials, variable);
        var body = NomadTestbed.JSON.createObjectNode();
        body.putObject("Meta").put("nomad_shell_job", "jorphanorphanorphan0");
        var orphan = NomadTestbed.post("/v1/job/" + prefix + "-c500-m512-d256/dispatch", body)
                .path("DispatchedJobID").asText();
        awaitStatus(orphan, "running");

        cluster = NomadCluster.start(dataDir.resolve("second"), model.baseUrl(), prefix,
                options -> options.retention(Duration.ofSeconds(1)).orphanGrace(Duration.ofSeconds(3)));

        var stopped = awaitStatus(orphan, "dead");
        assertThat(stopped.path("Stop").asBoolean()).as("stopped by the control plane: %s", stopped).isTrue();
        assertThat(NomadTestbed.awaitGone("/v1/var/" + credentials, Duration.ofSeconds(60)))
                .as("the orphan's credential, removed").isTrue();
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && NomadTestbed.get("/v1/job/" + orphan) != null) {
            Thread.sleep(500);
        }
        assertThat(NomadTestbed.get("/v1/job/" + orphan)).as("purged after the retention period").isNull();
    }

    private static com.fasterxml.jackson.databind.JsonNode awaitStatus(String jobId, String status) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        com.fasterxml.jackson.databind.JsonNode job = null;
        while (System.nanoTime() < deadline) {
            job = NomadTestbed.get("/v1/job/" + jobId);
            if (job != null && status.equals(job.path("Status").asText())) {
                return job;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("Nomad job " + jobId + " did not become " + status + "; last seen " + job);
    }
}
