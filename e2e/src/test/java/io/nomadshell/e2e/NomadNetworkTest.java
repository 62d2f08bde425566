package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network a job asks for: none (the default) leaves its sandbox without any network, egress
 * (network mode host) lets it connect out, here to a listener on this host's loopback.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadNetworkTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private ServerSocket listener;
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        model = ScriptedModelServer.builder().scenario(
                Fixtures.scenario("network-probe", dataDir, Integer.toString(listener.getLocalPort()))).build().start();
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        if (listener != null) listener.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aSandboxHasNoNetworkUnlessItsJobAsksForEgress() {
        assertThat(probe("")).isEqualTo("unreachable\n");
        assertThat(probe("none")).isEqualTo("unreachable\n");
        assertThat(probe("egress")).isEqualTo("reached\n");
    }

    private String probe(String network) {
        var rest = cluster.rest();
        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Probe the network").put("network", network).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();
        var job = rest.awaitEnd(id, Duration.ofSeconds(180)).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        assertThat(job.path("network").asText()).isEqualTo(network.isEmpty() ? "none" : network);
        return Fixtures.unzip(rest.getBytes("/download/" + id).body()).get("net.txt");
    }
}
