package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.daemon.tool.SandboxPorts;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nomad Shell run as an operator runs it on a cluster: {@code nomad job run
 * nomad-jobs/control-plane.nomad.hcl} (the shipped file, adjusted by {@code -var} only) with the image
 * {@code server-image/build.sh} builds, in a namespace of its own whose token holds only
 * {@code control-plane.policy.hcl}, handed to the job through the Nomad Variable it reads. Two
 * replicas and the job's own Redis (on the testbed clients' host volume) run in containers on the
 * nodes' network; Nomad's deployment marks both replicas healthy by their service checks. A task
 * scheduled through each replica completes in a sandbox job that the containerised replicas dispatched
 * and Nomad placed, attached through the replicas' Unix sockets in a host directory; its zip downloads.
 * Every socket the job's containers listen on is a loopback one (the testbed's nodes have only lo),
 * and from inside a sandbox, through the model's exec tool, no port of that loopback answers.
 * Stopping the job leaves no allocation, container or sandbox job.
 */
class NomadServiceJobTest {
    private static final String JOB = "nomad-shell";
    private static final String SERVER_IMAGE = "nomad-shell:e2e-job";
    private static final String REDIS_IMAGE = "nomad-shell-redis:e2e-job";
    private static final String API_KEY = "e2e-" + UUID.randomUUID();
    private static final Duration WAIT = Duration.ofMinutes(5);
    /** The image's user, who makes the Attach sockets. */
    private static final String SERVER_UID = "10001";

    private final String deployment = NomadCluster.newJobPrefix();
    private final String sandboxPrefix = deployment + "-sandbox";
    private NomadDeployment namespace;
    private ScriptedModelServer model;
    private Path attachDir;
    private final List<String> allocations = new ArrayList<>();

    @AfterEach
    void stopAndPurgeEverything() throws Exception {
        if (namespace == null) {
            return;
        }
        var ns = namespace.namespace();
        try {
            rememberAllocations(ns);
            // As an operator stops it: the replicas stop their sandboxes on the way down.
            NomadTestbed.delete("/v1/job/" + JOB + "?purge=true&namespace=" + ns);
            awaitNoContainers();
            NomadTestbed.assertNothingLeftAndPurge(sandboxPrefix, ns);
            // Each replica's warm-pool heartbeat went with it (a stopped replica removes its own).
            assertThat(NomadTestbed.get("/v1/vars?prefix=nomad-shell/pool-owners/&namespace=" + ns))
                    .as("the replicas' heartbeat variables after the job stopped").isEmpty();
        } finally {
            NomadTestbed.delete("/v1/var/nomad/jobs/" + JOB + "?namespace=" + ns);
            namespace.close();
            if (model != null) {
                model.close();
            }
            if (attachDir != null) {
                NomadTestbed.run(List.of("rm", "-rf", attachDir.toString()), Duration.ofSeconds(30));
            }
            emptyRedisVolumes();
        }
        // Nomad keeps a namespace that still holds variables (a replica's heartbeat, say).
        assertThat(NomadTestbed.get("/v1/namespace/" + ns)).as("the test's namespace after removing it").isNull();
    }

    @Test
    void theShippedJobRunsTwoHealthyReplicasThatEachCompleteATaskOnASandboxNomadPlaced(@TempDir Path tmp)
            throws Exception {
        NomadTestbed.require();
        requireRedisHostVolume();
        buildServerImage();
        emptyRedisVolumes();
        // The shipped job names its sandbox jobs <deployment>-sandbox-….
        namespace = NomadDeployment.create(deployment, deployment + "-sandbox");
        var ns = namespace.namespace();
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("nomad-service-probe", tmp, "")).build().start();
        // The host directory of the replicas' Attach sockets, as the job file asks an operator to make it.
        attachDir = Path.of("/tmp", deployment + "-attach");
        command("install", "-d", "-o", SERVER_UID, "-g", SERVER_UID, "-m", "0755", attachDir.toString());

        // The job's secrets, as its header says: the deployment's token among them.
        testbedNomad("var", "put", "-namespace", ns, "nomad/jobs/" + JOB, "openai_api_key=unused",
                "api_keys=" + API_KEY, "redis_password=" + UUID.randomUUID(), "nomad_token=" + namespace.token());
        testbedNomad("job", "run", "-detach", "-namespace", ns,
                "-var", "deployment=" + deployment,
                "-var", "sandbox_namespace=" + ns,
                "-var", "nomad_addr=" + NomadTestbed.NOMAD,
                "-var", "attach_socket_dir=" + attachDir,
                "-var", "openai_base_url=" + model.baseUrl(),
                "-var", "server_image=" + SERVER_IMAGE,
                "-var", "redis_image=" + REDIS_IMAGE,
                "-var", "sandbox_image=" + NomadTestbed.IMAGE,
                projectDir().resolve("nomad-jobs/control-plane.nomad.hcl").toString());

        var replicas = awaitHealthyReplicas(ns);
        assertThat(replicas).as("the replicas' API services").hasSize(2);
        assertListenOnLoopbackOnly(replicas);
        // Each replica made its Attach socket in the host directory, where sandboxes find both.
        assertThat(attachDir.resolve("server-0.sock")).exists();
        assertThat(attachDir.resolve("server-1.sock")).exists();

        var jobs = new ArrayList<String>();
        var clients = new ArrayList<Rest>();
        for (var replica : replicas) {
            var rest = new Rest("http://127.0.0.1:" + replica.getPort(), API_KEY);
            var response = rest.post("/schedule", "application/json",
                    "{\"task\": \"Probe the workspace\", \"cpu_mhz\": 500, \"memory_mb\": 512, \"disk_mb\": 256}");
            assertThat(response.statusCode()).as("POST /schedule: %s", response.body()).isEqualTo(200);
            jobs.add(Rest.json(response).path("job_id").asText());
            clients.add(rest);
        }
        for (int i = 0; i < jobs.size(); i++) {
            var end = clients.get(i).awaitEnd(jobs.get(i), WAIT).last();
            assertThat(end.path("status").asText()).as("job %s: %s\n%s", jobs.get(i), end, replicaLogs())
                    .isEqualTo("complete");
        }

        // Each ran in a sandbox job of this deployment, dispatched by a replica and placed on a node.
        var dispatched = NomadTestbed.dispatchedJobs(sandboxPrefix, ns);
        assertThat(dispatched.stream().map(job -> job.path("Meta").path("nomad_shell_job").asText()).toList())
                .as("the sandbox jobs' meta").containsExactlyInAnyOrderElementsOf(jobs);
        for (var job : dispatched) {
            var placed = NomadTestbed.get("/v1/job/" + job.path("ID").asText() + "/allocations?namespace=" + ns);
            assertThat(placed).as("allocations of %s", job.path("ID").asText()).isNotEmpty()
                    .allSatisfy(allocation -> assertThat(allocation.path("NodeID").asText()).isNotEmpty());
        }

        // The zip is kept by the replica that finished the job: one of the two serves it.
        var zip = download(clients, jobs.getFirst());
        assertThat(zip.get("nomad-job.txt")).as("the Nomad job the sandbox ran in")
                .startsWith(sandboxPrefix + "-").contains("/dispatch-");
        // Inside, through the model's own exec tool: both replicas' Attach sockets, and of the ports on
        // 127.0.0.1 only the daemon's own egress proxy, in the sandbox's own network namespace; none of
        // the host's loopback, where the replicas' API, previews and peer ports, Redis and Nomad listen.
        assertThat(zip.get("attach-dir.txt").lines().toList()).as("the sandbox's /run/nomad-shell")
                .containsExactly("server-0.sock", "server-1.sock");
        assertThat(zip.get("open-ports.txt").lines().toList())
                .as("ports on 127.0.0.1 the sandbox could connect to (the replicas' API: %s)", replicas)
                .containsExactly(Integer.toString(SandboxPorts.EGRESS_PROXY));
    }

    /** Waits for Nomad's deployment to mark both replicas healthy; returns their API services' addresses. */
    private List<InetSocketAddress> awaitHealthyReplicas(String ns) throws Exception {
        var deadline = System.nanoTime() + WAIT.toNanos();
        String last = "no deployment yet";
        while (System.nanoTime() < deadline) {
            var deploymentState = NomadTestbed.get("/v1/job/" + JOB + "/deployment?namespace=" + ns);
            rememberAllocations(ns);
            if (deploymentState != null) {
                var server = deploymentState.path("TaskGroups").path("server");
                last = deploymentState.path("Status").asText() + ": " + deploymentState.path("StatusDescription").asText()
                        + ", healthy replicas " + server.path("HealthyAllocs").asInt();
                if ("failed".equals(deploymentState.path("Status").asText())) {
                    fail("the deployment failed: %s\n%s", last, replicaLogs());
                }
                if ("successful".equals(deploymentState.path("Status").asText()) && server.path("HealthyAllocs").asInt() == 2) {
                    var services = NomadTestbed.get("/v1/service/" + deployment + "?namespace=" + ns);
                    var addresses = new ArrayList<InetSocketAddress>();
                    services.forEach(service -> addresses.add(new InetSocketAddress(service.path("Address").asText(),
                            service.path("Port").asInt())));
                    return addresses;
                }
            }
            Thread.sleep(1000);
        }
        return fail("the replicas were not healthy within %s (%s)\n%s", WAIT, last, replicaLogs());
    }

    /**
     * Host networking, proven harmless here: every TCP socket that the job's containers (both replicas
     * and Redis) listen on is a loopback one; each replica's API port is among them, so the check saw
     * the replicas' own sockets.
     */
    private void assertListenOnLoopbackOnly(List<InetSocketAddress> replicas) throws Exception {
        var listening = new HashSet<InetSocketAddress>();
        for (var container : jobContainers()) {
            listening.addAll(ListeningSockets.of(ListeningSockets.containerPids(container)));
        }
        assertThat(listening.stream().map(InetSocketAddress::getPort).toList()).as("ports the job's containers listen on")
                .containsAll(replicas.stream().map(InetSocketAddress::getPort).toList());
        assertThat(listening).as("sockets the job's containers listen on").allMatch(ListeningSockets::isLoopback);
    }

    private static Map<String, String> download(List<Rest> clients, String job) {
        var answers = new ArrayList<String>();
        for (var client : clients) {
            var response = client.getBytes("/download/" + job);
            if (response.statusCode() == 200) {
                return Fixtures.unzip(response.body());
            }
            answers.add(response.statusCode() + " " + new String(response.body()));
        }
        return fail("no replica served the zip of %s: %s", job, answers);
    }

    /** Remembers every allocation of the control-plane job, for its containers and logs. */
    private void rememberAllocations(String ns) throws Exception {
        var found = NomadTestbed.get("/v1/job/" + JOB + "/allocations?namespace=" + ns);
        if (found != null) {
            for (JsonNode allocation : found) {
                var id = allocation.path("ID").asText();
                if (!allocations.contains(id)) {
                    allocations.add(id);
                }
            }
        }
    }

    /** The containers (running or not) of the control-plane job's allocations. */
    private List<String> jobContainers() throws Exception {
        var containers = new ArrayList<String>();
        for (var allocation : allocations) {
            var result = NomadTestbed.run(List.of("docker", "ps", "-a", "-q", "--filter",
                    "label=com.hashicorp.nomad.alloc_id=" + allocation), Duration.ofSeconds(30));
            assertThat(result.exit()).as("docker ps: %s", result.output()).isZero();
            result.output().lines().filter(line -> !line.isBlank()).forEach(containers::add);
        }
        return containers;
    }

    private void awaitNoContainers() throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        List<String> left;
        do {
            left = jobContainers();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        assertThat(left).as("containers of the control-plane job after it was stopped").isEmpty();
    }

    private String replicaLogs() throws Exception {
        var logs = new StringBuilder();
        for (var container : jobContainers()) {
            logs.append("--- ").append(container).append('\n').append(NomadTestbed.run(
                    List.of("docker", "logs", "--tail", "40", container), Duration.ofSeconds(30)).output());
        }
        return logs.toString();
    }

    /** The job's Redis needs the host volume that testbed/nomad-testbed.sh declares on its clients. */
    private static void requireRedisHostVolume() throws Exception {
        for (var node : NomadTestbed.get("/v1/nodes")) {
            var detail = NomadTestbed.get("/v1/node/" + node.path("ID").asText());
            assertThat(detail.path("HostVolumes").has("nomad-shell-redis"))
                    .as("client %s declares the host volume nomad-shell-redis (a testbed started before it was added: "
                            + "testbed/nomad-testbed.sh stop-nomad, then start-nomad)", node.path("Name").asText())
                    .isTrue();
        }
    }

    private static void buildServerImage() throws Exception {
        // Docker's cache and the jlink runtime's cache make a rebuild with unchanged jars take seconds.
        var build = NomadTestbed.run(List.of("bash", projectDir().resolve("server-image/build.sh").toString(),
                "--tag", SERVER_IMAGE, "--redis-tag", REDIS_IMAGE), Duration.ofMinutes(15));
        assertThat(build.exit()).as("server-image/build.sh: %s", build.output()).isZero();
    }

    /** The testbed clients' Redis host volumes (testbed/nomad-testbed.sh): this test's Redis leaves nothing there. */
    private static void emptyRedisVolumes() throws Exception {
        var testbed = Path.of(System.getenv().getOrDefault("NOMAD_SHELL_TESTBED_DIR", "/var/lib/nomad-shell-testbed"));
        for (var client : List.of(1, 2)) {
            var volume = testbed.resolve("nomad-client-" + client + "-volumes/nomad-shell-redis");
            if (Files.isDirectory(volume)) {
                command("find", volume.toString(), "-mindepth", "1", "-delete");
            }
        }
    }

    private static void testbedNomad(String... arguments) throws Exception {
        var result = NomadTestbed.script(Duration.ofMinutes(2), prepend("nomad", arguments));
        assertThat(result.exit()).as("nomad %s: %s", String.join(" ", arguments), result.output()).isZero();
    }

    private static void command(String... command) throws Exception {
        var result = NomadTestbed.run(List.of(command), Duration.ofSeconds(60));
        assertThat(result.exit()).as("%s: %s", String.join(" ", command), result.output()).isZero();
    }

    private static String[] prepend(String first, String... rest) {
        var all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static Path projectDir() {
        return Path.of(System.getProperty("nomadshell.projectDir", "..")).toAbsolutePath().normalize();
    }
}
