package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.proto.v1.EgressConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Egress from a local (bubblewrap) sandbox, attacked from inside through the model's own exec tool:
 * the host's loopback is unreachable directly; an allowed host answers through the daemon's proxy;
 * a host off the list is refused with words in the tool output; an allowed name that resolves to
 * loopback is refused unless the operator allowed loopback; and each connection is a job event.
 */
class EgressTest {
    @TempDir
    Path temp;
    private EgressProbe probe;
    private TestCluster cluster;

    private TestCluster start(String allow, String allowPrivate) throws Exception {
        probe = EgressProbe.start(temp);
        var policy = EgressPolicy.parse(allow, allowPrivate);
        cluster = TestCluster.start(temp.resolve("server"), probe.modelBaseUrl(), options -> options.resources(
                new ResourcePolicy(ResourcePolicy.DEFAULT.defaults(), ResourcePolicy.DEFAULT.maxCpuMhz(),
                        ResourcePolicy.DEFAULT.minMemoryMb(), ResourcePolicy.DEFAULT.maxMemoryMb(),
                        ResourcePolicy.DEFAULT.maxTimeout(), policy)));
        return cluster;
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (probe != null) probe.close();
    }

    @Test
    void anAllowedHostAnswersThroughTheProxyAndNothingElseGetsOut() throws Exception {
        start("localhost", "127.0.0.0/8");

        var id = probe.run(cluster.rest(), List.of("localhost"), Duration.ofSeconds(120));

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
    }

    @Test
    void anAllowedNameThatResolvesToLoopbackIsRefusedWithoutThePrivateAllowance() throws Exception {
        start("localhost", "");

        var id = probe.run(cluster.rest(), List.of("localhost"), Duration.ofSeconds(120));

        var outputs = probe.toolOutputs();
        assertThat(outputs.get(1)).doesNotContain(probe.marker)
                .contains("egress to localhost is not allowed: it resolves to a loopback address");
        var events = EgressProbe.egressEvents(cluster.port(), id);
        assertThat(events).hasSize(2);
        assertThat(events.getFirst().getAllowed()).isFalse();
        assertThat(events.getFirst().getReason()).contains("resolves to a loopback address");
        assertThat(events.getFirst().getAddress()).isIn("127.0.0.1", "0:0:0:0:0:0:0:1");
    }

    @Test
    void scheduleRefusesTheOldNetworkAndHostsOutsideTheCap() throws Exception {
        var rest = start("*.example.org", "").rest();

        var old = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "t").put("network", "egress").toString());
        assertThat(old.statusCode()).as(old.body()).isEqualTo(400);
        assertThat(Rest.json(old).path("message").asText()).contains("egress.allow").contains("no network");

        var body = Rest.JSON.createObjectNode().put("task", "t");
        body.putObject("egress").putArray("allow").add("a.example.org").add("evil.example");
        var outside = rest.post("/schedule", "application/json", body.toString());
        assertThat(outside.statusCode()).as(outside.body()).isEqualTo(400);
        assertThat(Rest.json(outside).path("message").asText())
                .isEqualTo("egress to evil.example is outside this server's --egress-allow (*.example.org)");
    }
}
