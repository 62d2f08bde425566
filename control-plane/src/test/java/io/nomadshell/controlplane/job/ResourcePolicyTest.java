package io.nomadshell.controlplane.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.egress.EgressPolicy;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourcePolicyTest {
    private static final ResourcePolicy POLICY = new ResourcePolicy(
            new SandboxResources(1000, 1024, Duration.ofMinutes(10), List.of()),
            2000, 256, 2048, Duration.ofMinutes(30), EgressPolicy.parse("pypi.org, *.example.org", ""));

    @Test
    void whatIsNotAskedForTakesTheDefault() {
        assertThat(POLICY.grant(SandboxRequest.DEFAULTS)).isEqualTo(POLICY.defaults());
        assertThat(POLICY.grant(new SandboxRequest(0, 512, 0, "", List.of())))
                .isEqualTo(new SandboxResources(1000, 512, Duration.ofMinutes(10), List.of()));
    }

    @Test
    void grantsWhatIsAskedForWithinTheCaps() {
        assertThat(POLICY.grant(new SandboxRequest(2000, 2048, 1800, "none",
                        List.of("PyPI.org.", "*.a.example.org", "b.example.org", "pypi.org"))))
                .isEqualTo(new SandboxResources(2000, 2048, Duration.ofMinutes(30),
                        List.of("pypi.org", "*.a.example.org", "b.example.org")));
    }

    @Test
    void refusesWhatExceedsACapSayingWhich() {
        assertInvalid(new SandboxRequest(2001, 0, 0, "", List.of()), "cpu_mhz 2001 exceeds this server's cap of 2000 MHz");
        assertInvalid(new SandboxRequest(0, 4096, 0, "", List.of()), "memory_mb 4096 exceeds this server's cap of 2048 MiB");
        assertInvalid(new SandboxRequest(0, 100, 0, "", List.of()), "memory_mb 100 is below the 256 MiB a sandbox needs");
        assertInvalid(new SandboxRequest(0, 0, 1801, "", List.of()), "timeout_seconds 1801 exceeds this server's cap of 1800 s");
        assertInvalid(new SandboxRequest(-1, 0, 0, "", List.of()), "cpu_mhz must not be negative");
        assertInvalid(new SandboxRequest(0, 0, 0, "bridge", List.of()),
                "network must be none, not 'bridge' (sandboxes have no network; ask for hosts with egress.allow)");
    }

    @Test
    void theOldEgressNetworkIsRefusedPointingAtTheAllowlist() {
        assertThatThrownBy(() -> POLICY.grant(new SandboxRequest(0, 0, 0, "egress", List.of())))
                .isInstanceOf(JobException.class)
                .hasMessageContaining("sandboxes have no network")
                .hasMessageContaining("egress.allow");
    }

    @Test
    void refusesHostsOutsideTheOperatorsCapNamingTheHostAndTheFlag() {
        assertInvalid(new SandboxRequest(0, 0, 0, "", List.of("evil.example")),
                "egress to evil.example is outside this server's --egress-allow (pypi.org, *.example.org)");
        assertInvalid(new SandboxRequest(0, 0, 0, "", List.of("example.org")),
                "egress to example.org is outside this server's --egress-allow (pypi.org, *.example.org)");
        assertInvalid(new SandboxRequest(0, 0, 0, "", List.of("*")),
                "egress to * is outside this server's --egress-allow (pypi.org, *.example.org)");
        assertInvalid(new SandboxRequest(0, 0, 0, "", List.of("not a host")),
                "egress.allow: 'not a host' is not a host name, an IP address, *.name or *");
    }

    @Test
    void grantsTheDiskAskedForWithinItsCap() {
        var policy = new ResourcePolicy(new SandboxResources(1000, 1024, Duration.ofMinutes(10), List.of(), 512),
                2000, 256, 2048, Duration.ofMinutes(30), EgressPolicy.NONE, 1024);

        assertThat(policy.grant(SandboxRequest.DEFAULTS).diskMb()).isEqualTo(512);
        assertThat(policy.grant(new SandboxRequest(0, 0, 0, "", List.of(), 64)).diskMb()).isEqualTo(64);
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(0, 0, 0, "", List.of(), 1025)))
                .isInstanceOf(JobException.class)
                .hasMessage("disk_mb 1025 exceeds this server's cap of 1024 MiB");
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(0, 0, 0, "", List.of(), 8)))
                .isInstanceOf(JobException.class)
                .hasMessage("disk_mb 8 is below the 16 MiB a sandbox needs");
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(0, 0, 0, "", List.of(), -1)))
                .isInstanceOf(JobException.class)
                .hasMessage("disk_mb must not be negative");
    }

    @Test
    void refusesEgressWhereTheServerAllowsNone() {
        var closed = new ResourcePolicy(POLICY.defaults(), 2000, 256, 2048, Duration.ofMinutes(30), EgressPolicy.NONE);

        assertThatThrownBy(() -> closed.grant(new SandboxRequest(0, 0, 0, "", List.of("pypi.org"))))
                .isInstanceOfSatisfying(JobException.class,
                        e -> assertThat(e.reason()).isEqualTo(JobException.Reason.INVALID_ARGUMENT))
                .hasMessage("egress to pypi.org is not allowed: this server allows no egress (its --egress-allow is empty)");
    }

    private static void assertInvalid(SandboxRequest request, String message) {
        assertThatThrownBy(() -> POLICY.grant(request))
                .isInstanceOfSatisfying(JobException.class,
                        e -> assertThat(e.reason()).isEqualTo(JobException.Reason.INVALID_ARGUMENT))
                .hasMessage(message);
    }
}
