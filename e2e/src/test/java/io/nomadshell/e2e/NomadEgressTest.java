package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.proto.v1.EgressConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Egress from a Nomad sandbox (Docker, network mode none), attacked from inside through the model's
 * own exec tool: the host's loopback listener is unreachable directly; an allowed name answers
 * through the daemon's proxy; a host off the list is refused in words; each connection is an event.
 * The parent job's network mode is checked too: none, never host.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadEgressTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private EgressProbe probe;
    private NomadCluster cluster;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        probe = EgressProbe.start(dataDir);
        cluster = NomadCluster.start(dataDir.resolve("server"), probe.modelBaseUrl(), prefix, UnaryOperator.identity(),
                NomadCluster.resources(EgressPolicy.parse("localhost", "127.0.0.0/8")));
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (probe != null) probe.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aNomadSandboxReachesOnlyWhatItsJobMayThroughTheProxy() throws Exception {
        var id = probe.run(cluster.rest(), List.of("localhost"), Duration.ofSeconds(180));

        var outputs = probe.toolOutputs();
        assertThat(outputs.get(0)).as("direct").contains("direct exit 7").doesNotContain(probe.marker);
        assertThat(outputs.get(1)).as("through the proxy").contains(probe.marker).contains("proxied exit 0");
        assertThat(outputs.get(2)).as("CONNECT to a host off the list")
                .contains("403 egress to evil.example is not allowed for this job (allowed: localhost)");
        assertThat(EgressProbe.egressEvents(cluster.port(), id)).containsExactly(
                EgressConnection.newBuilder().setHost("localhost").setPort(probe.listenerPort())
                        .setAddress("127.0.0.1").setAllowed(true).build(),
                EgressConnection.newBuilder().setHost("evil.example").setPort(443).setAllowed(false)
                        .setReason("egress to evil.example is not allowed for this job (allowed: localhost)").build());
        var parent = NomadTestbed.get("/v1/job/" + prefix + "-c500-m512-d256");
        assertThat(parent.path("TaskGroups").get(0).path("Tasks").get(0).path("Config").path("network_mode").asText())
                .isEqualTo("none");
    }
}
