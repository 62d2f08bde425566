package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sandboxes on the testbed's two clients in Nomad's bridge network, attached over TLS to the
 * control plane's Attach address (the testbed's firewall, scripts/sandbox-firewall.sh, carries it to
 * the listener on 127.0.0.1). On each client a job completes, and its model's exec tool reaches,
 * all at once, for everything else: Nomad's server and clients' HTTP ports, a loopback service of
 * the test's, on every IPv4 address of this host (the bridges' gateways among them), a sandbox on
 * the same bridge and one on the other, and a host outside (a network namespace the test makes,
 * routed through this host). Every attempt times out (its packets were dropped, not refused), the
 * firewall's drop counters rise, and the job's own Attach, dialed the same way, answers. The
 * sandbox has no IPv6 at all: its tries at the bridges' link-local addresses fail at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadBridgeAttachTest {
    private static final Duration WAIT = Duration.ofSeconds(150);
    /** curl's exit code when the connection attempt timed out: nothing answered, not even a refusal. */
    private static final String DROPPED = "28";
    private static final String OUTSIDE_HOST = "198.51.100.2";
    /** The outside host's network namespace (one at a time: a run killed before its end leaves it to the next). */
    private static final String OUTSIDE = "nst-outside";

    private final String prefix = NomadCluster.newJobPrefix();
    private NomadTestbed.SandboxNetwork network;
    private HttpServer loopbackService;
    private ScriptedModelServer model;
    private NomadCluster cluster;
    private boolean outsideMade;
    /** Target name → URL, as the sandbox reaches for them. */
    private final Map<String, String> targets = new LinkedHashMap<>();

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        network = NomadTestbed.sandboxNetwork();
        loopbackService = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 10);
        loopbackService.createContext("/", exchange -> {
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        loopbackService.start();
        var victims = startVictims();
        makeOutsideHost();

        var attach = network.attach();
        targets.put("attach", "https://" + attach.getHostString() + ":" + attach.getPort() + "/");
        var nomadPort = NomadTestbed.NOMAD.getPort();
        var ports = Map.of("nomad-server", nomadPort, "nomad-client-1", nomadPort + 10, "nomad-client-2", nomadPort + 20,
                "loopback-service", loopbackService.getAddress().getPort());
        for (var address : hostAddresses()) {
            ports.forEach((service, port) -> targets.put(service + "@" + address, "http://" + address + ":" + port + "/"));
        }
        for (var bridge : network.bridges()) {
            // From the sandbox, its own bridge's link-local address is on its eth0.
            var linkLocal = linkLocal(bridge);
            targets.put("nomad-server@" + bridge + "-ipv6", "http://[" + linkLocal + "%25eth0]:" + nomadPort + "/");
        }
        victims.forEach((client, address) -> targets.put("sandbox-on-client-" + client, "http://" + address + ":8080/"));
        targets.put("outside", "http://" + OUTSIDE_HOST + ":8080/");

        var words = new ArrayList<String>();
        targets.forEach((name, url) -> words.add(name + "=" + url));
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("bridge-attack", tmp, String.join(" ", words))).build().start();
        cluster = NomadCluster.startOverTls(tmp.resolve("server"), model.baseUrl(), prefix);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (cluster != null) cluster.close();
            if (model != null) model.close();
            if (loopbackService != null) loopbackService.stop(0);
            if (outsideMade) NomadTestbed.run(List.of("ip", "netns", "del", OUTSIDE), Duration.ofSeconds(30));
        } finally {
            NomadTestbed.delete("/v1/job/" + prefix + "-victims?purge=true");
            NomadTestbed.assertNothingLeftAndPurge(prefix);
        }
    }

    @ParameterizedTest(name = "client {0}")
    @ValueSource(strings = {"1", "2"})
    void aBridgeSandboxAttachesOverTlsAndReachesNothingElse(String client) throws Exception {
        var dropsBefore = drops();
        var others = new ArrayList<String>();
        for (var node : nodes().entrySet()) {
            if (!node.getKey().equals(client)) {
                others.add(node.getValue());
            }
        }
        String id;
        JsonNode job;
        others.forEach(node -> eligible(node, false));
        try {
            id = cluster.rest().schedule("Probe the network from client " + client);
            job = cluster.rest().awaitEnd(id, WAIT).last();
        } finally {
            others.forEach(node -> eligible(node, true));
        }
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");

        var allocation = allocationOf(id);
        assertThat(NomadTestbed.get("/v1/node/" + allocation.path("NodeID").asText()).path("Meta")
                .path("testbed_client").asText()).as("the sandbox's client").isEqualTo(client);
        var group = allocation.path("Job").path("TaskGroups").get(0);
        assertThat(group.path("Networks").get(0).path("Mode").asText()).isEqualTo("bridge");
        var task = group.path("Tasks").get(0);
        assertThat(task.path("Config").path("network_mode").asText()).as("no Docker network of its own").isEmpty();
        assertThat(task.path("Config").path("volumes").isEmpty()).as("no Attach socket mounted").isTrue();
        var attach = network.attach();
        assertThat(task.path("Env").path("NOMAD_SHELL_ATTACH").asText())
                .isEqualTo(attach.getHostString() + ":" + attach.getPort());
        var bridgeAddress = gateway(network.bridges().get(Integer.parseInt(client) - 1));
        assertThat(allocation.path("NetworkStatus").path("Address").asText()).as("the sandbox's address")
                .startsWith(bridgeAddress.substring(0, bridgeAddress.lastIndexOf('.') + 1));

        var output = lastToolOutput();
        var outcomes = outcomes(output);
        assertThat(outcomes.keySet()).as("every target was tried").containsExactlyInAnyOrderElementsOf(targets.keySet());
        assertThat(outcomes.get("attach")).as("the Attach address, over TLS").isEqualTo("exit 0");
        // Docker leaves IPv6 off in the namespace and the sandbox's user cannot turn it on: no IPv6
        // packet leaves it (the firewall drops IPv6 from the bridge all the same).
        assertThat(output).contains("eth0 ipv6 disabled: 1");
        var blocked = new LinkedHashMap<>(outcomes);
        blocked.remove("attach");
        assertThat(blocked).as("what the sandbox reached for: curl's exit code and message").allSatisfy((name, outcome) ->
                assertThat(outcome).as(name + " (" + targets.get(name) + ")").matches(name.endsWith("-ipv6")
                        ? "exit 7 curl: \\(7\\) Failed to connect to .* after \\d+ ms: Couldn't connect to server"
                        : "exit " + DROPPED + " curl: \\(28\\) Failed to connect to .* after \\d+ ms: Timeout was reached"));
        var ipv4 = blocked.keySet().stream().filter(name -> !name.endsWith("-ipv6")).count();
        assertThat(drops() - dropsBefore).as("packets the sandbox firewall dropped").isGreaterThanOrEqualTo(ipv4);
    }

    /** Testbed client ("1", "2") → its node id. */
    private static Map<String, String> nodes() throws Exception {
        var nodes = new LinkedHashMap<String, String>();
        for (var node : NomadTestbed.get("/v1/nodes")) {
            var id = node.path("ID").asText();
            nodes.put(NomadTestbed.get("/v1/node/" + id).path("Meta").path("testbed_client").asText(), id);
        }
        assertThat(nodes).containsKeys("1", "2");
        return nodes;
    }

    private static void eligible(String node, boolean eligible) {
        try {
            NomadTestbed.post("/v1/node/" + node + "/eligibility", NomadTestbed.JSON.createObjectNode()
                    .put("NodeID", node).put("Eligibility", eligible ? "eligible" : "ineligible"));
        } catch (Exception e) {
            throw new AssertionError("could not set the eligibility of node " + node, e);
        }
    }

    private JsonNode allocationOf(String jobId) throws Exception {
        for (var sandbox : NomadTestbed.dispatchedJobs(prefix)) {
            if (jobId.equals(sandbox.path("Meta").path("nomad_shell_job").asText())) {
                var allocation = NomadTestbed.get("/v1/job/" + sandbox.path("ID").asText() + "/allocations").get(0);
                return NomadTestbed.get("/v1/allocation/" + allocation.path("ID").asText());
            }
        }
        throw new AssertionError("no sandbox job for " + jobId);
    }

    /** A sandbox-like listener on port 8080 in the bridge of each client, as another job's sandbox would be: client → address. */
    private Map<String, String> startVictims() throws Exception {
        var groups = new StringBuilder();
        for (var client : List.of("1", "2")) {
            groups.append("""
                      group "client-%s" {
                        constraint {
                          attribute = "${meta.testbed_client}"
                          value     = "%s"
                        }
                        network {
                          mode = "bridge"
                        }
                        restart { attempts = 0 }
                        task "listen" {
                          driver = "docker"
                          config {
                            image      = "%s"
                            # Gone by itself after 5 minutes, should the test never stop it.
                            entrypoint = ["timeout", "300", "python3", "-m", "http.server", "8080"]
                          }
                          resources {
                            cpu    = 100
                            memory = 128
                          }
                        }
                      }
                    """.formatted(client, client, NomadTestbed.IMAGE));
        }
        var hcl = "job \"" + prefix + "-victims\" {\n  type = \"batch\"\n  datacenters = [\"*\"]\n" + groups + "}\n";
        var job = NomadTestbed.post("/v1/jobs/parse", NomadTestbed.JSON.createObjectNode().put("JobHCL", hcl));
        var register = NomadTestbed.JSON.createObjectNode();
        register.set("Job", job);
        NomadTestbed.post("/v1/jobs", register);
        var deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            var addresses = new LinkedHashMap<String, String>();
            for (var allocation : NomadTestbed.get("/v1/job/" + prefix + "-victims/allocations")) {
                if (allocation.path("ClientStatus").asText().equals("running")) {
                    var full = NomadTestbed.get("/v1/allocation/" + allocation.path("ID").asText());
                    addresses.put(full.path("TaskGroup").asText().replace("client-", ""),
                            full.path("NetworkStatus").path("Address").asText());
                }
            }
            if (addresses.size() == 2) {
                return addresses;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the listeners in both bridges did not run within " + WAIT);
    }

    /**
     * A host outside, routed through this one: a network namespace with {@value #OUTSIDE_HOST},
     * whose kernel refuses what reaches it (nothing listens), so only a dropped attempt times out.
     */
    private void makeOutsideHost() throws Exception {
        var inside = OUTSIDE + "-i";
        var outside = OUTSIDE + "-o";
        // Deleting the namespace deletes the link pair with it.
        NomadTestbed.run(List.of("ip", "netns", "del", OUTSIDE), Duration.ofSeconds(30));
        for (var command : List.of(
                List.of("ip", "netns", "add", OUTSIDE),
                List.of("ip", "link", "add", outside, "type", "veth", "peer", "name", inside),
                List.of("ip", "link", "set", inside, "netns", OUTSIDE),
                List.of("ip", "addr", "add", "198.51.100.1/30", "dev", outside),
                List.of("ip", "link", "set", outside, "up"),
                List.of("ip", "-n", OUTSIDE, "addr", "add", OUTSIDE_HOST + "/30", "dev", inside),
                List.of("ip", "-n", OUTSIDE, "link", "set", inside, "up"),
                List.of("ip", "-n", OUTSIDE, "route", "add", "default", "via", "198.51.100.1"))) {
            var result = NomadTestbed.run(command, Duration.ofSeconds(30));
            outsideMade = true;
            assertThat(result.exit()).as("%s: %s", command, result.output()).isZero();
        }
    }

    /** Every IPv4 address of this host but loopback's. */
    private static List<String> hostAddresses() throws Exception {
        var addresses = new ArrayList<String>();
        for (var nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (var address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
                    addresses.add(address.getHostAddress());
                }
            }
        }
        return addresses;
    }

    private static String gateway(String bridge) throws Exception {
        return Collections.list(NetworkInterface.getByName(bridge).getInetAddresses()).stream()
                .filter(Inet4Address.class::isInstance).map(InetAddress::getHostAddress).findFirst()
                .orElseThrow(() -> new AssertionError(bridge + " has no IPv4 address"));
    }

    private static String linkLocal(String bridge) throws Exception {
        return Collections.list(NetworkInterface.getByName(bridge).getInetAddresses()).stream()
                .filter(address -> address instanceof Inet6Address && address.isLinkLocalAddress())
                .map(address -> address.getHostAddress().replaceAll("%.*", "")).findFirst()
                .orElseThrow(() -> new AssertionError(bridge + " has no IPv6 link-local address"));
    }

    /** Packets the sandbox firewall dropped so far, on both bridges. */
    private long drops() throws Exception {
        long total = 0;
        for (var bridge : network.bridges()) {
            var result = NomadTestbed.run(List.of("bash", Path.of(System.getProperty("nomadshell.projectDir", ".."))
                    .resolve("scripts/sandbox-firewall.sh").toString(), "drops", "--bridge", bridge), Duration.ofSeconds(30));
            assertThat(result.exit()).as("sandbox-firewall.sh drops: %s", result.output()).isZero();
            total += Long.parseLong(result.output().strip());
        }
        return total;
    }

    private String lastToolOutput() {
        var last = model.receivedRequests().getLast();
        String output = null;
        for (JsonNode message : last.path("messages")) {
            if (message.path("role").asText().equals("tool")) {
                var content = message.path("content");
                output = content.isTextual() ? content.asText() : content.toString();
            }
        }
        assertThat(output).as("the exec output in %s", last).isNotNull();
        return output;
    }

    /** "NAME exit N MESSAGE" lines → NAME → "exit N MESSAGE". */
    private static Map<String, String> outcomes(String output) {
        var outcomes = new LinkedHashMap<String, String>();
        output.lines().map(String::strip).filter(line -> line.matches("\\S+ exit \\d+.*"))
                .forEach(line -> outcomes.put(line.substring(0, line.indexOf(' ')), line.substring(line.indexOf(' ') + 1).strip()));
        return outcomes;
    }
}
