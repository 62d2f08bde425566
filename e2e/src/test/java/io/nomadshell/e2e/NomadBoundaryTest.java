package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same attack as {@link SandboxBoundaryTest} from inside a Nomad sandbox (docker, network none,
 * the Attach socket's directory mounted): the socket serves Attach alone, no credential is readable
 * (the credential's file is gone once the daemon read it, and Nomad's task API lets no process of the
 * task read the variable it came from), a replay is refused, the job completes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadBoundaryTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private Path dataDir;
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        dataDir = tmp.resolve("server").toAbsolutePath();
        model = ScriptedModelServer.builder().scenario(BoundaryProbe.scenario(tmp)).build().start();
        cluster = NomadCluster.start(dataDir, model.baseUrl(), prefix);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void theSandboxReachesOnlyItsAttachStreamAndHoldsNoCredential() throws Exception {
        var rest = cluster.rest();
        // The job's launch credential, read from outside as only the operator can: from the variable its
        // task renders it from, as the control plane writes it before the dispatch.
        var written = NomadTestbed.awaitVariable(prefix + "-c500-m512-d256", NomadTestbed.DEFAULT_NAMESPACE);
        var id = rest.schedule("Probe the boundary");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(120));
        var token = written.get(60, TimeUnit.SECONDS).path("Items").path(id).asText();
        assertThat(token).startsWith("v2." + id + ".");

        BoundaryProbe.assertReplayRefused(cluster.attachSocket(), dataDir, id, token);

        var job = rest.awaitEnd(id, Duration.ofSeconds(180)).last();
        assertThat(job.path("status").asText()).as("the job, its stream untouched: %s", job).isEqualTo("complete");
        var zip = Fixtures.unzip(rest.getBytes("/download/" + id).body());
        BoundaryProbe.assertRefusedAndNoCredential(zip, model.receivedRequests(), token);
        assertThat(zip.get("probe-daemon.txt")).as("the credential's file, deleted by the daemon")
                .contains("token file: cat: /secrets/attach-token: No such file or directory")
                .as("the variable through Nomad's task API, without the task's identity")
                .containsPattern("task api variable: (401|no socket)\n");
        assertThat(zip.get("probe-env.txt") + zip.get("probe-environ.txt"))
                .as("the task's workload identity, which could read the variable").doesNotContain("NOMAD_TOKEN=");
        assertThat(Rest.json(rest.get("/v1/jobs")).path("jobs").size())
                .as("the POST /schedule from inside created no job").isEqualTo(1);
    }
}
