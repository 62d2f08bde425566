package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * What a job's sandbox may use, as granted when the job was scheduled. A sandbox never has a
 * network; {@code egressAllow} names what its egress proxy may reach through the control plane.
 *
 * @param cpuMhz CPU in MHz, as Nomad counts it
 * @param memoryMb memory of the whole sandbox in MiB
 * @param timeout wall time of the job from when it starts running
 * @param egressAllow the host patterns the job may reach through its egress proxy; empty: none
 */
public record SandboxResources(int cpuMhz, int memoryMb, Duration timeout, List<String> egressAllow) {
    /** What a job gets when it asks for nothing and the server sets no other defaults. */
    public static final SandboxResources DEFAULT =
            new SandboxResources(1000, 1024, Duration.ofMinutes(30), List.of());

    public SandboxResources {
        requireNonNull(timeout, "timeout");
        egressAllow = List.copyOf(egressAllow);
        if (cpuMhz <= 0 || memoryMb <= 0 || !timeout.isPositive()) {
            throw new IllegalArgumentException("sandbox resources must be positive");
        }
    }
}
