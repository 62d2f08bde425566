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
 * @param diskMb the size of the sandbox's workspace, and of its {@code /tmp}, in MiB
 */
public record SandboxResources(int cpuMhz, int memoryMb, Duration timeout, List<String> egressAllow, int diskMb) {
    /** The disk a sandbox gets when neither the job nor the server says otherwise. */
    public static final int DEFAULT_DISK_MB = 4096;

    /** What a job gets when it asks for nothing and the server sets no other defaults. */
    public static final SandboxResources DEFAULT =
            new SandboxResources(1000, 1024, Duration.ofMinutes(30), List.of(), DEFAULT_DISK_MB);

    public SandboxResources {
        requireNonNull(timeout, "timeout");
        egressAllow = List.copyOf(egressAllow);
        if (cpuMhz <= 0 || memoryMb <= 0 || !timeout.isPositive() || diskMb <= 0) {
            throw new IllegalArgumentException("sandbox resources must be positive");
        }
    }

    /** Resources with the {@link #DEFAULT_DISK_MB default disk}. */
    public SandboxResources(int cpuMhz, int memoryMb, Duration timeout, List<String> egressAllow) {
        this(cpuMhz, memoryMb, timeout, egressAllow, DEFAULT_DISK_MB);
    }
}
