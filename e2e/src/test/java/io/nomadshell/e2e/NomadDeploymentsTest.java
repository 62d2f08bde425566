package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two deployments of Nomad Shell on one Nomad cluster, each with its own job prefix: each registers
 * its own sandbox job, so neither's registration replaces the other's (with one fixed name the
 * second's volumes replaced the first's, and the first's next sandbox could not attach); jobs of
 * both run side by side, each in a job of its own deployment; and one deployment's stop leaves the
 * other's jobs alone.
 */
class NomadDeploymentsTest {
    private static final Duration WAIT = Duration.ofSeconds(180);

    private final String prefixA = NomadCluster.newJobPrefix();
    private final String prefixB = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster a;
    private NomadCluster b;

    @AfterEach
    void stop() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefixA);
        NomadTestbed.assertNothingLeftAndPurge(prefixB);
    }

    @Test
    void twoDeploymentsWithTheirOwnPrefixesRunSideBySideAndStopAlone(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-pool-probe", tmp, "")).build().start();
        a = NomadCluster.start(tmp.resolve("a"), model.baseUrl(), prefixA);
        b = NomadCluster.start(tmp.resolve("b"), model.baseUrl(), prefixB);

        // The first deployment's job starts after the second registered its own sandbox job.
        var jobA = a.rest().schedule("Probe the workspace");
        var jobB = b.rest().schedule("Probe the workspace");
        assertRanIn(a, jobA, prefixA);
        assertRanIn(b, jobB, prefixB);

        // One deployment stops: the other's next job still runs.
        a.close();
        a = null;
        assertThat(NomadTestbed.dispatchedJobs(prefixA)).allSatisfy(job ->
                assertThat(job.path("Status").asText()).as("%s", job).isEqualTo("dead"));
        assertRanIn(b, b.rest().schedule("Probe the workspace"), prefixB);
    }

    private static void assertRanIn(NomadCluster cluster, String job, String prefix) throws Exception {
        var end = cluster.rest().awaitEnd(job, WAIT).last();
        assertThat(end.path("status").asText()).as("job %s: %s", job, end).isEqualTo("complete");
        var zip = Fixtures.unzip(cluster.rest().getBytes("/download/" + job).body());
        // The deployment's sandbox job for this job's resources (<prefix>-c500-m512-d256), dispatched.
        assertThat(zip.get("nomad-job.txt")).as("the Nomad job of %s", job).startsWith(prefix + "-")
                .contains("/dispatch-");
    }
}
