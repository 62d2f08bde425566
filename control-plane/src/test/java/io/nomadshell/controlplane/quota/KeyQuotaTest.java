package io.nomadshell.controlplane.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A key's CPU and memory caps narrow the server's: asking past them is refused, asking nothing fits them. */
class KeyQuotaTest {
    private static final KeyQuota CAPPED = new KeyQuota("ci", 0, 0, 0, 0, 500, 512);

    @Test
    void askingPastTheKeysCapIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> CAPPED.narrow(ResourcePolicy.DEFAULT, new SandboxRequest(800, 0, 0, "", List.of())))
                .isInstanceOfSatisfying(JobException.class,
                        e -> assertThat(e.reason()).isEqualTo(JobException.Reason.INVALID_ARGUMENT))
                .hasMessage("cpu_mhz 800 exceeds the cap of API key ci: 500 MHz");
        assertThatThrownBy(() -> CAPPED.narrow(ResourcePolicy.DEFAULT, new SandboxRequest(0, 1024, 0, "", List.of())))
                .hasMessage("memory_mb 1024 exceeds the cap of API key ci: 512 MiB");
    }

    @Test
    void askingForNothingGetsTheDefaultsWithinTheKeysCaps() {
        var granted = CAPPED.narrow(ResourcePolicy.DEFAULT, SandboxRequest.DEFAULTS).grant(SandboxRequest.DEFAULTS);
        assertThat(granted.cpuMhz()).isEqualTo(500);
        assertThat(granted.memoryMb()).isEqualTo(512);
        assertThat(CAPPED.narrow(ResourcePolicy.DEFAULT, new SandboxRequest(400, 300, 0, "", List.of()))
                .grant(new SandboxRequest(400, 300, 0, "", List.of())).memoryMb()).isEqualTo(300);
    }

    @Test
    void aKeyWithoutCapsKeepsTheServersPolicyAndItsWords() {
        var policy = KeyQuota.unlimited("key-1").narrow(ResourcePolicy.DEFAULT, SandboxRequest.DEFAULTS);
        assertThat(policy).isEqualTo(ResourcePolicy.DEFAULT);
        assertThatThrownBy(() -> policy.grant(new SandboxRequest(9000, 0, 0, "", List.of())))
                .hasMessageContaining("this server's cap of 4000 MHz");
    }
}
