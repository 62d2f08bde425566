package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.launch.nomad.NomadApiException;
import io.nomadshell.controlplane.launch.nomad.NomadLauncher;
import io.nomadshell.controlplane.launch.nomad.NomadOptions;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two deployments of Nomad Shell on one Nomad cluster, each with its own job prefix: each registers
 * its own sandbox job, so neither's registration replaces the other's (with one fixed name the
 * second's volumes replaced the first's, and the first's next sandbox could not attach); jobs of
 * both run side by side, each in a job of its own deployment; and one deployment's stop leaves the
 * other's jobs alone. With ACLs, as operators run Nomad, each deployment's token can neither read nor
 * stop the other's sandbox jobs (403), either way round; and a control plane whose token does not reach
 * its namespace says so in words.
 */
class NomadDeploymentsTest {
    private static final Duration WAIT = Duration.ofSeconds(180);

    private final String prefixA = NomadCluster.newJobPrefix();
    private final String prefixB = NomadCluster.newJobPrefix();
    private NomadDeployment deploymentA;
    private NomadDeployment deploymentB;
    private ScriptedModelServer model;
    private NomadCluster a;
    private NomadCluster b;

    @AfterEach
    void stop() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefixA, deploymentA == null ? NomadTestbed.DEFAULT_NAMESPACE
                : deploymentA.namespace());
        NomadTestbed.assertNothingLeftAndPurge(prefixB, deploymentB == null ? NomadTestbed.DEFAULT_NAMESPACE
                : deploymentB.namespace());
        if (deploymentA != null) deploymentA.close();
        if (deploymentB != null) deploymentB.close();
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

    @Test
    void eachDeploymentsTokenRunsItsOwnSandboxesAndCanNeitherReadNorStopTheOthers(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        // Nomad as its operators run it: each deployment in a namespace of its own, with a token that
        // holds only nomad-jobs/control-plane.policy.hcl there.
        deploymentA = NomadDeployment.create("nstest-a-" + UUID.randomUUID().toString().substring(0, 8));
        deploymentB = NomadDeployment.create("nstest-b-" + UUID.randomUUID().toString().substring(0, 8));
        // A token used outside its namespace is refused in words that name what it may not do, and where.
        var wrongNamespace = NomadOptions.builder().address(NomadTestbed.NOMAD).token(deploymentA.token())
                .namespace(deploymentB.namespace()).attachSocket(tmp.resolve("attach.sock")).jobPrefix(prefixA).build();
        assertThatThrownBy(() -> NomadLauncher.start(wrongNamespace, NomadCluster.RESOURCES.defaults()))
                .isInstanceOf(NomadApiException.class)
                .hasMessageStartingWith("the Nomad token may not parse jobs in namespace " + deploymentB.namespace()
                        + ": POST /v1/jobs/parse answered 403 ");

        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("sleep-forever", tmp, "acl")).build().start();
        a = NomadCluster.start(tmp.resolve("a"), model.baseUrl(), prefixA,
                options -> options.token(deploymentA.token()).namespace(deploymentA.namespace()));
        b = NomadCluster.start(tmp.resolve("b"), model.baseUrl(), prefixB,
                options -> options.token(deploymentB.token()).namespace(deploymentB.namespace()));

        var jobA = a.rest().schedule("Sleep for ten minutes");
        var jobB = b.rest().schedule("Sleep for ten minutes");
        a.rest().awaitStatus(jobA, Set.of("running"), WAIT);
        b.rest().awaitStatus(jobB, Set.of("running"), WAIT);
        var sandboxA = sandboxJob(prefixA, deploymentA.namespace());
        var sandboxB = sandboxJob(prefixB, deploymentB.namespace());

        // Each token reads its own sandbox job: the refusals below are its policy's, not a broken token.
        assertThat(status("GET", sandboxA, deploymentA, deploymentA)).as("A reads its own sandbox job").isEqualTo(200);
        assertThat(status("GET", sandboxB, deploymentB, deploymentB)).as("B reads its own sandbox job").isEqualTo(200);
        assertThat(status("GET", sandboxB, deploymentB, deploymentA)).as("A reads B's sandbox job").isEqualTo(403);
        assertThat(status("DELETE", sandboxB, deploymentB, deploymentA)).as("A stops B's sandbox job").isEqualTo(403);
        assertThat(status("GET", sandboxA, deploymentA, deploymentB)).as("B reads A's sandbox job").isEqualTo(403);
        assertThat(status("DELETE", sandboxA, deploymentA, deploymentB)).as("B stops A's sandbox job").isEqualTo(403);

        // Both still run side by side.
        assertThat(a.rest().status(jobA).path("status").asText()).as("job A").isEqualTo("running");
        assertThat(b.rest().status(jobB).path("status").asText()).as("job B").isEqualTo("running");
        assertThat(NomadTestbed.get("/v1/job/" + sandboxA + "?namespace=" + deploymentA.namespace())
                .path("Status").asText()).as("A's sandbox job").isEqualTo("running");
        assertThat(NomadTestbed.get("/v1/job/" + sandboxB + "?namespace=" + deploymentB.namespace())
                .path("Status").asText()).as("B's sandbox job").isEqualTo("running");

        for (var cancel : new Object[][] {{a, jobA}, {b, jobB}}) {
            var response = ((NomadCluster) cancel[0]).rest().post("/v1/jobs/" + cancel[1] + ":cancel", "application/json", "{}");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }
    }

    /** The one dispatched sandbox job under {@code prefix}, as the management token sees it. */
    private static String sandboxJob(String prefix, String namespace) throws Exception {
        var jobs = NomadTestbed.dispatchedJobs(prefix, namespace);
        assertThat(jobs).as("the sandbox jobs of %s in %s", prefix, namespace).hasSize(1);
        return jobs.getFirst().path("ID").asText();
    }

    /** The status Nomad answers {@code caller}'s token for {@code method} on the job {@code jobId} of {@code owner}. */
    private static int status(String method, String jobId, NomadDeployment owner, NomadDeployment caller)
            throws Exception {
        var request = NomadTestbed.request("/v1/job/" + jobId + "?namespace=" + owner.namespace(), caller.token())
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return NomadTestbed.send(request).statusCode();
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
