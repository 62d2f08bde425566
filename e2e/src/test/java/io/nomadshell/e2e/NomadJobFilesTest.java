package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The job files in nomad-jobs/ are what a real Nomad agent accepts, as operators will run them. */
class NomadJobFilesTest {

    @BeforeAll
    static void testbed() throws Exception {
        NomadTestbed.require();
    }

    @Test
    void theSandboxJobIsAParameterizedBatchJobThatNeverRetries() throws Exception {
        var job = parseAndValidate("sandbox.nomad.hcl");

        assertThat(job.path("Type").asText()).isEqualTo("batch");
        // No payload: whoever may read the job reads it. The credential comes from a variable (below).
        assertThat(job.path("ParameterizedJob").path("Payload").asText()).isEqualTo("forbidden");
        assertThat(job.path("ParameterizedJob").path("MetaRequired").toString()).contains("nomad_shell_job");
        var group = job.path("TaskGroups").get(0);
        assertThat(group.path("RestartPolicy").path("Attempts").asInt()).isZero();
        assertThat(group.path("ReschedulePolicy").path("Attempts").asInt()).isZero();
        var task = group.path("Tasks").get(0);
        assertThat(task.path("Driver").asText()).isEqualTo("docker");
        assertThat(task.path("DispatchPayload").isNull() || task.path("DispatchPayload").isMissingNode()).isTrue();
        assertThat(task.path("Config").path("network_mode").asText()).isEqualTo("none");
        assertThat(task.path("Env").path("NOMAD_SHELL_TOKEN").isMissingNode()).as("no token in the environment").isTrue();
        assertThat(task.path("Env").path("NOMAD_SHELL_ATTACH_CA").asText()).as("no CA over the socket").isEmpty();
        assertThat(task.path("Identity").isNull() || task.path("Identity").isMissingNode())
                .as("the task's processes never get its workload identity").isTrue();
        // The one template: the launch credential, from the variable the task's identity reads, in secrets/.
        assertThat(task.path("Templates")).hasSize(1);
        var credential = task.path("Templates").get(0);
        assertThat(credential.path("DestPath").asText()).isEqualTo("secrets/attach-token");
        assertThat(task.path("Env").path("NOMAD_SHELL_TOKEN_FILE").asText()).isEqualTo("/secrets/attach-token");
        assertThat(credential.path("EmbeddedTmpl").asText()).contains(
                "nomadVar (printf \"nomad/jobs/%s/sandbox/sandbox\" (env \"NOMAD_JOB_PARENT_ID\"))",
                "index . (env \"NOMAD_META_nomad_shell_job\")");
        assertThat(credential.path("ChangeMode").asText()).isEqualTo("noop");
        assertThat(credential.path("Perms").asText()).isEqualTo("0400");
        assertThat(credential.path("Uid").asInt()).isEqualTo(1000);
    }

    @Test
    void aSandboxDialingTcpGetsTheAttachCaAsAFile() throws Exception {
        var pem = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";
        var job = parseAndValidate("sandbox.nomad.hcl", "attach = \"cp.example:7443\"\nattach_ca = \""
                + pem.replace("\n", "\\n") + "\"\n");

        var task = job.path("TaskGroups").get(0).path("Tasks").get(0);
        assertThat(task.path("Env").path("NOMAD_SHELL_ATTACH").asText()).isEqualTo("cp.example:7443");
        assertThat(task.path("Env").path("NOMAD_SHELL_ATTACH_CA").asText()).isEqualTo("/local/attach-ca.pem");
        assertThat(task.path("Templates")).hasSize(2);
        assertThat(task.path("Templates").get(1).path("DestPath").asText()).isEqualTo("local/attach-ca.pem");
        assertThat(task.path("Templates").get(1).path("EmbeddedTmpl").asText()).isEqualTo(pem);
    }

    @Test
    void aSandboxDialingTcpJoinsNomadsBridgeNetworkAndNeverTheHosts() throws Exception {
        var socket = parseAndValidate("sandbox.nomad.hcl").path("TaskGroups").get(0);
        assertThat(socket.path("Networks").isNull() || socket.path("Networks").isEmpty()).as("no group network").isTrue();

        var group = parseAndValidate("sandbox.nomad.hcl", "network_mode = \"bridge\"\nattach = \"10.0.0.5:7443\"\n")
                .path("TaskGroups").get(0);
        assertThat(group.path("Networks")).hasSize(1);
        assertThat(group.path("Networks").get(0).path("Mode").asText()).isEqualTo("bridge");
        assertThat(group.path("Tasks").get(0).path("Config").path("network_mode").asText())
                .as("docker joins the group's namespace").isEmpty();

        var host = NomadTestbed.send(NomadTestbed.request("/v1/jobs/parse", NomadTestbed.TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(NomadTestbed.JSON.createObjectNode()
                        .put("JobHCL", jobFile("sandbox.nomad.hcl")).put("Variables", "network_mode = \"host\"\n").toString()))
                .build());
        assertThat(host.statusCode()).isEqualTo(400);
        assertThat(host.body()).contains("The network_mode is none (Attach socket mounted) or bridge");
    }

    @Test
    void theServerJobRunsTwoReplicasOfTheImageThatFindTheirRedisThroughNomadServices() throws Exception {
        var job = parseAndValidate("control-plane.nomad.hcl");

        assertThat(job.path("Type").asText()).isEqualTo("service");
        var server = group(job, "server");
        assertThat(server.path("Count").asInt()).isEqualTo(2);
        var task = server.path("Tasks").get(0);
        assertThat(task.path("Config").path("image").asText()).isEqualTo("nomad-shell:local");
        assertThat(task.path("Config").path("args").toString()).contains("\"server\"", "\"--launcher\"", "\"nomad\"");
        assertThat(serviceNames(task)).containsExactlyInAnyOrder("nomad-shell", "nomad-shell-attach");
        assertThat(task.path("Services").get(0).path("Provider").asText()).isEqualTo("nomad");
        assertThat(task.path("Services").get(0).path("Checks").get(0).path("Path").asText()).isEqualTo("/internal/healthcheck");
        assertThat(task.path("Templates").get(0).path("EmbeddedTmpl").asText())
                .contains("nomadService \"nomad-shell-redis\"", "REDIS_URL=");
        assertThat(task.path("Env").path("NOMAD_SHELL_NOMAD_JOB_PREFIX").asText()).isEqualTo("nomad-shell-sandbox");

        var redis = group(job, "redis");
        assertThat(redis.path("Count").asInt()).isEqualTo(1);
        assertThat(redis.path("Volumes").path("redis").path("Type").asText()).isEqualTo("host");
        assertThat(redis.path("Tasks").get(0).path("VolumeMounts").get(0).path("Destination").asText()).isEqualTo("/data");
        assertThat(redis.path("Tasks").get(0).path("Config").path("image").asText()).isEqualTo("nomad-shell-redis:local");
        assertThat(redis.path("Tasks").get(0).path("Services").get(0).path("Name").asText()).isEqualTo("nomad-shell-redis");
    }

    @Test
    void aDeploymentNameRenamesTheServicesAndTheSandboxJobs() throws Exception {
        var job = parseAndValidate("control-plane.nomad.hcl", "deployment = \"team-a\"\nreplicas = 3\n");

        var task = group(job, "server").path("Tasks").get(0);
        assertThat(group(job, "server").path("Count").asInt()).isEqualTo(3);
        assertThat(serviceNames(task)).containsExactlyInAnyOrder("team-a", "team-a-attach");
        assertThat(task.path("Env").path("NOMAD_SHELL_NOMAD_JOB_PREFIX").asText()).isEqualTo("team-a-sandbox");
        assertThat(task.path("Templates").get(0).path("EmbeddedTmpl").asText()).contains("nomadService \"team-a-redis\"");
    }

    private static List<String> serviceNames(JsonNode task) {
        var names = new ArrayList<String>();
        task.path("Services").forEach(service -> names.add(service.path("Name").asText()));
        return names;
    }

    private static JsonNode group(JsonNode job, String name) {
        for (var group : job.path("TaskGroups")) {
            if (group.path("Name").asText().equals(name)) {
                return group;
            }
        }
        throw new AssertionError("no group " + name + " in " + job);
    }

    private static JsonNode parseAndValidate(String file) throws Exception {
        return parseAndValidate(file, "");
    }

    private static String jobFile(String file) throws Exception {
        var project = Path.of(System.getProperty("nomadshell.projectDir", "..")).toAbsolutePath().normalize();
        return Files.readString(project.resolve("nomad-jobs").resolve(file));
    }

    private static JsonNode parseAndValidate(String file, String variables) throws Exception {
        var hcl = jobFile(file);
        var job = NomadTestbed.post("/v1/jobs/parse", NomadTestbed.JSON.createObjectNode().put("JobHCL", hcl)
                .put("Variables", variables));
        var validation = NomadTestbed.post("/v1/validate/job", NomadTestbed.JSON.createObjectNode().set("Job", job));
        assertThat(validation.path("ValidationErrors").isNull() || validation.path("ValidationErrors").isEmpty())
                .as("validation of %s: %s", file, validation).isTrue();
        assertThat(validation.path("Error").asText("")).as("validation of %s", file).isEmpty();
        return job;
    }
}
