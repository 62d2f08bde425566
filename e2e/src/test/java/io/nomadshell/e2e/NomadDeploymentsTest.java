package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.launch.nomad.NomadApiException;
import io.nomadshell.controlplane.launch.nomad.NomadLauncher;
import io.nomadshell.controlplane.launch.nomad.NomadOptions;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import io.grpc.Status;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
 * its namespace, or its sandboxes' credentials, says so in words. Whoever may only read jobs in the
 * namespace finds nothing in a sandbox job that lets it attach.
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
    private NomadDeployment.PolicyToken reader;

    @AfterEach
    void stop() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
        if (model != null) model.close();
        if (reader != null) reader.close();
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
        deploymentA = NomadDeployment.create("nstest-a-" + UUID.randomUUID().toString().substring(0, 8), prefixA);
        deploymentB = NomadDeployment.create("nstest-b-" + UUID.randomUUID().toString().substring(0, 8), prefixB);
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

    @Test
    void aReaderOfTheNamespaceFindsNothingInTheSandboxJobThatLetsItAttach(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        deploymentA = NomadDeployment.create("nstest-a-" + UUID.randomUUID().toString().substring(0, 8), prefixA);
        var namespace = deploymentA.namespace();
        // Someone who may read and list jobs there, as operators grant a dashboard or a colleague.
        reader = NomadDeployment.PolicyToken.create(namespace + "-reader",
                "namespace \"" + namespace + "\" {\n  capabilities = [\"read-job\", \"list-jobs\"]\n}\n");
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-pool-probe", tmp, "")).build().start();
        a = NomadCluster.start(tmp.resolve("a"), model.baseUrl(), prefixA,
                options -> options.token(deploymentA.token()).namespace(namespace));
        var parent = prefixA + "-c500-m512-d256";
        var variable = "/v1/var/" + NomadTestbed.credentialsPath(parent) + "?namespace=" + namespace;

        // The operator sees the launch credential land in the variable before the dispatch; the reader may not read it.
        var written = NomadTestbed.awaitVariable(parent, namespace);
        var job = a.rest().schedule("Probe the workspace");
        var credential = written.get(120, TimeUnit.SECONDS).path("Items").path(job).asText();
        assertThat(credential).as("the job's launch credential").startsWith("v2." + job + ".");
        assertThat(status("GET", variable, reader.secret())).as("the reader reads the variable").isEqualTo(403);
        var list = NomadTestbed.send(NomadTestbed.request("/v1/vars?prefix=nomad/jobs&namespace=" + namespace,
                reader.secret()).build());
        assertThat(list.body()).as("the reader's list of variables").doesNotContain(NomadTestbed.credentialsPath(parent));
        assertRanIn(a, job, prefixA);

        // The reader lists and reads the dispatched sandbox job: no payload, and nothing that holds the credential.
        var listed = NomadTestbed.send(NomadTestbed.request("/v1/jobs?meta=true&prefix=" + prefixA + "&namespace="
                + namespace, reader.secret()).build());
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        var dispatched = sandboxJob(prefixA, namespace);
        var read = NomadTestbed.send(NomadTestbed.request("/v1/job/" + dispatched + "?namespace=" + namespace,
                reader.secret()).build());
        assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
        var sandboxJob = NomadTestbed.JSON.readTree(read.body());
        assertThat(sandboxJob.path("Payload").asText("")).as("the dispatch payload").isEmpty();
        var signature = credential.substring(credential.lastIndexOf('.') + 1);
        assertThat(listed.body() + read.body()).doesNotContain(credential).doesNotContain(signature);

        // What it found, presented to the Attach listener as a launch credential or a resume secret: refused.
        var found = new LinkedHashSet<String>();
        sandboxJob.path("Meta").forEach(value -> found.add(value.asText()));
        sandboxJob.path("TaskGroups").get(0).path("Tasks").get(0).path("Env").forEach(value -> found.add(value.asText()));
        assertThat(found).contains(job);
        for (var value : found) {
            for (var authorization : List.of("Bearer " + value, "Resume " + job + "." + value)) {
                assertThat(BoundaryProbe.attach(a.attachSocket(), authorization).getCode()).as(authorization)
                        .isEqualTo(Status.Code.UNAUTHENTICATED);
            }
        }
        // The credential itself, read in time by whoever could: spent by the daemon's first Attach.
        var spent = BoundaryProbe.attach(a.attachSocket(), "Bearer " + credential);
        assertThat(spent.getCode()).as("%s", spent).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(spent.getDescription()).isEqualTo("this launch credential was already used");

        // The variable went with the sandbox.
        assertThat(NomadTestbed.awaitGone(variable, Duration.ofSeconds(30))).as("the credentials' variable is gone").isTrue();
    }

    @Test
    void aTokenThatMayNotReachTheSandboxesCredentialsStopsTheServerAtStartInWords(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        // The policy file as an operator might have kept it from before: no variables for the sandboxes' credentials.
        var name = "nstest-a-" + UUID.randomUUID().toString().substring(0, 8);
        var policy = Files.readString(Path.of(System.getProperty("nomadshell.projectDir", ".."))
                .resolve("nomad-jobs/control-plane.policy.hcl"))
                .replace("namespace \"nomad-shell\" {", "namespace \"" + name + "\" {");
        deploymentA = NomadDeployment.withRules(name, policy.replace(NomadDeployment.SANDBOX_VARIABLES,
                "nomad/jobs/someone-else-*/sandbox/sandbox"));
        var options = NomadOptions.builder().address(NomadTestbed.NOMAD).token(deploymentA.token())
                .namespace(name).attachSocket(tmp.resolve("attach.sock")).jobPrefix(prefixA).build();
        var path = NomadTestbed.credentialsPath(prefixA + "-c500-m512-d256");
        assertThatThrownBy(() -> NomadLauncher.start(options, NomadCluster.RESOURCES.defaults()))
                .isInstanceOf(NomadApiException.class)
                .hasMessageStartingWith("the Nomad token may not use the variable " + path
                        + " (variables capability \"read\" on that path) in namespace " + name + ": GET /v1/var/" + path
                        + " answered 403 ");

        // The path, but only to read and list: the write is refused at start too, and nothing was written.
        NomadTestbed.post("/v1/acl/policy/" + name, NomadTestbed.JSON.createObjectNode().put("Name", name)
                .put("Rules", policy.replace(NomadDeployment.SANDBOX_VARIABLES, NomadDeployment.SANDBOX_VARIABLES
                        .replace("nomad-shell-sandbox", prefixA)).replace("capabilities = [\"read\", \"write\", "
                        + "\"destroy\", \"list\"]\n    }\n  }", "capabilities = [\"read\", \"list\"]\n    }\n  }")));
        assertThatThrownBy(() -> NomadLauncher.start(options, NomadCluster.RESOURCES.defaults()))
                .isInstanceOf(NomadApiException.class)
                .hasMessageStartingWith("the Nomad token may not use the variable " + path
                        + " (variables capability \"write\" on that path) in namespace " + name + ": PUT /v1/var/" + path
                        + " answered 403 ");
        assertThat(NomadTestbed.get("/v1/var/" + path + "?namespace=" + name)).as("the variable").isNull();
    }

    /** The status Nomad answers {@code token} for {@code method} on {@code pathAndQuery}. */
    private static int status(String method, String pathAndQuery, String token) throws Exception {
        return NomadTestbed.send(NomadTestbed.request(pathAndQuery, token)
                .method(method, HttpRequest.BodyPublishers.noBody()).build()).statusCode();
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
        return status(method, "/v1/job/" + jobId + "?namespace=" + owner.namespace(), caller.token());
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
