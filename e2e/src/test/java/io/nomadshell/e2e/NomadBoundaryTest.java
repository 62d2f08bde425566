package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same attack as {@link SandboxBoundaryTest} from inside a Nomad sandbox (docker, network none,
 * the Attach socket's directory mounted): the socket serves Attach alone, no credential is readable
 * (the dispatch payload file is gone once the daemon read it), a replay is refused, the job completes.
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
        var id = rest.schedule("Probe the boundary");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(120));
        var token = launchToken(id);

        BoundaryProbe.assertReplayRefused(cluster.attachSocket(), dataDir, id, token);

        var job = rest.awaitEnd(id, Duration.ofSeconds(180)).last();
        assertThat(job.path("status").asText()).as("the job, its stream untouched: %s", job).isEqualTo("complete");
        var zip = Fixtures.unzip(rest.getBytes("/download/" + id).body());
        BoundaryProbe.assertRefusedAndNoCredential(zip, model.receivedRequests(), token);
        assertThat(zip.get("probe-daemon.txt")).as("the dispatch payload file, deleted by the daemon")
                .contains("token file: cat: /local/token: No such file or directory");
        assertThat(Rest.json(rest.get("/v1/jobs")).path("jobs").size())
                .as("the POST /schedule from inside created no job").isEqualTo(1);
    }

    /** The job's launch credential, read from outside as only the operator can: the dispatch payload in the Nomad API. */
    private String launchToken(String jobId) throws Exception {
        for (var dispatched : NomadTestbed.dispatchedJobs(prefix)) {
            var job = NomadTestbed.get("/v1/job/" + dispatched.path("ID").asText());
            if (job != null && jobId.equals(job.path("Meta").path("nomad_shell_job").asText())) {
                return new String(Base64.getDecoder().decode(job.path("Payload").asText()), US_ASCII);
            }
        }
        throw new AssertionError("no dispatched Nomad job for " + jobId + " under " + prefix);
    }
}
