package io.nomadshell.controlplane.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.SandboxResources.Network;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ResourcePolicyTest {
    private static final ResourcePolicy POLICY = new ResourcePolicy(
            new SandboxResources(1000, 1024, Duration.ofMinutes(10), Network.NONE),
            2000, 256, 2048, Duration.ofMinutes(30), true);

    @Test
    void whatIsNotAskedForTakesTheDefault() {
        assertThat(POLICY.grant(SandboxRequest.DEFAULTS)).isEqualTo(POLICY.defaults());
        assertThat(POLICY.grant(new SandboxRequest(0, 512, 0, "")))
                .isEqualTo(new SandboxResources(1000, 512, Duration.ofMinutes(10), Network.NONE));
    }

    @Test
    void grantsWhatIsAskedForWithinTheCaps() {
        assertThat(POLICY.grant(new SandboxRequest(2000, 2048, 1800, "egress")))
                .isEqualTo(new SandboxResources(2000, 2048, Duration.ofMinutes(30), Network.EGRESS));
    }

    @Test
    void refusesWhatExceedsACapSayingWhich() {
        assertInvalid(new SandboxRequest(2001, 0, 0, ""), "cpu_mhz 2001 exceeds this server's cap of 2000 MHz");
        assertInvalid(new SandboxRequest(0, 4096, 0, ""), "memory_mb 4096 exceeds this server's cap of 2048 MiB");
        assertInvalid(new SandboxRequest(0, 100, 0, ""), "memory_mb 100 is below the 256 MiB a sandbox needs");
        assertInvalid(new SandboxRequest(0, 0, 1801, ""), "timeout_seconds 1801 exceeds this server's cap of 1800 s");
        assertInvalid(new SandboxRequest(-1, 0, 0, ""), "cpu_mhz must not be negative");
        assertInvalid(new SandboxRequest(0, 0, 0, "bridge"), "network must be none or egress, not 'bridge'");
    }

    @Test
    void grantsTheDiskAskedForWithinItsCap() {
        var policy = new ResourcePolicy(new SandboxResources(1000, 1024, Duration.ofMinutes(10), Network.NONE, 512),
                2000, 256, 2048, Duration.ofMinutes(30), false, 1024);

        assertThat(policy.grant(SandboxRequest.DEFAULTS).diskMb()).isEqualTo(512);
        assertThat(policy.grant(new SandboxRequest(0, 0, 0, "", 64)).diskMb()).isEqualTo(64);
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(0, 0, 0, "", 1025)))
                .isInstanceOf(JobException.class)
                .hasMessage("disk_mb 1025 exceeds this server's cap of 1024 MiB");
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(0, 0, 0, "", 8)))
                .isInstanceOf(JobException.class)
                .hasMessage("disk_mb 8 is below the 16 MiB a sandbox needs");
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(0, 0, 0, "", -1)))
                .isInstanceOf(JobException.class)
                .hasMessage("disk_mb must not be negative");
    }

    @Test
    void refusesEgressWhereTheServerAllowsNone() {
        var closed = new ResourcePolicy(POLICY.defaults(), 2000, 256, 2048, Duration.ofMinutes(30), false);

        assertThatThrownBy(() -> closed.grant(new SandboxRequest(0, 0, 0, "egress")))
                .isInstanceOfSatisfying(JobException.class,
                        e -> assertThat(e.reason()).isEqualTo(JobException.Reason.INVALID_ARGUMENT))
                .hasMessage("network egress is not allowed on this server; sandboxes here have no network");
    }

    private static void assertInvalid(SandboxRequest request, String message) {
        assertThatThrownBy(() -> POLICY.grant(request))
                .isInstanceOfSatisfying(JobException.class,
                        e -> assertThat(e.reason()).isEqualTo(JobException.Reason.INVALID_ARGUMENT))
                .hasMessage(message);
    }
}
