package io.nomadshell.controlplane.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxResources;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProfilePoolTest {
    private static final ResourcePolicy POLICY = new ResourcePolicy(SandboxResources.DEFAULT,
            2000, 256, 2048, Duration.ofMinutes(30), EgressPolicy.parse("pypi.org, *.example.org", ""));

    @Test
    void aProfileTakesTheServersDefaultsForWhatItLeavesOut() {
        var pool = ProfilePool.parse("cpu=2000,memory=2048:3", POLICY);

        assertThat(pool.size()).isEqualTo(3);
        assertThat(pool.resources().cpuMhz()).isEqualTo(2000);
        assertThat(pool.resources().memoryMb()).isEqualTo(2048);
        assertThat(pool.resources().diskMb()).isEqualTo(SandboxResources.DEFAULT_DISK_MB);
        assertThat(pool.label()).isEqualTo("cpu=2000,memory=2048,disk=4096,egress=none");
    }

    @Test
    void aJobOfExactlyTheProfileIsServedWhateverItsTimeoutAndTheOrderOfItsHosts() {
        var pool = ProfilePool.parse("memory=512,egress=pypi.org+api.example.org:1", POLICY);

        assertThat(pool.serves(new SandboxResources(1000, 512, Duration.ofMinutes(5),
                List.of("api.example.org", "pypi.org")))).isTrue();
        assertThat(pool.serves(new SandboxResources(1000, 512, Duration.ofMinutes(5), List.of("pypi.org")))).isFalse();
        assertThat(pool.serves(new SandboxResources(1000, 768, Duration.ofMinutes(5),
                List.of("api.example.org", "pypi.org")))).isFalse();
        assertThat(pool.serves(SandboxResources.DEFAULT)).isFalse();
    }

    @Test
    void badProfilesAreRefusedSayingWhy() {
        assertThatThrownBy(() -> ProfilePool.parse("memory=512", POLICY)).hasMessageContaining("no :SIZE");
        assertThatThrownBy(() -> ProfilePool.parse("memory=512:0", POLICY))
                .hasMessageContaining("SIZE must be a whole number above 0, not '0'");
        assertThatThrownBy(() -> ProfilePool.parse("ram=512:1", POLICY))
                .hasMessageContaining("'ram' is none of cpu, memory, disk, egress");
        assertThatThrownBy(() -> ProfilePool.parse("memory=lots:1", POLICY))
                .hasMessageContaining("memory must be a whole number above 0, not 'lots'");
        assertThatThrownBy(() -> ProfilePool.parse("memory=8192:1", POLICY))
                .hasMessageContaining("memory_mb 8192 exceeds this server's cap of 2048 MiB");
        assertThatThrownBy(() -> ProfilePool.parse("egress=evil.org:1", POLICY))
                .hasMessageContaining("warm-pool profile 'egress=evil.org:1'");
    }

    @Test
    void aProfileIsGivenOnce() {
        var pool = ProfilePool.parse("memory=512:1", POLICY);

        assertThatThrownBy(() -> new WarmPoolOptions(0, List.of(pool, ProfilePool.parse("memory=512:2", POLICY)),
                Duration.ofMinutes(1), 1L << 30)).hasMessageContaining("given twice");
    }
}
