package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Locale;

/**
 * What a job's sandbox may use, as granted when the job was scheduled.
 *
 * @param cpuMhz CPU in MHz, as Nomad counts it
 * @param memoryMb memory of the whole sandbox in MiB
 * @param timeout wall time of the job from when it starts running
 * @param network whether the sandbox may reach the network
 * @param diskMb the size of the sandbox's workspace, and of its {@code /tmp}, in MiB
 */
public record SandboxResources(int cpuMhz, int memoryMb, Duration timeout, Network network, int diskMb) {
    /** The disk a sandbox gets when neither the job nor the server says otherwise. */
    public static final int DEFAULT_DISK_MB = 4096;

    /** What a job gets when it asks for nothing and the server sets no other defaults. */
    public static final SandboxResources DEFAULT =
            new SandboxResources(1000, 1024, Duration.ofMinutes(30), Network.NONE, DEFAULT_DISK_MB);

    public SandboxResources {
        requireNonNull(timeout, "timeout");
        requireNonNull(network, "network");
        if (cpuMhz <= 0 || memoryMb <= 0 || !timeout.isPositive() || diskMb <= 0) {
            throw new IllegalArgumentException("sandbox resources must be positive");
        }
    }

    /** Resources with the {@link #DEFAULT_DISK_MB default disk}. */
    public SandboxResources(int cpuMhz, int memoryMb, Duration timeout, Network network) {
        this(cpuMhz, memoryMb, timeout, network, DEFAULT_DISK_MB);
    }

    /** A sandbox's network. */
    public enum Network {
        /** No network at all: the daemon reaches the control plane through a Unix socket. */
        NONE,
        /** The sandbox may open connections out. */
        EGRESS;

        /** The name in the API: {@code none} or {@code egress}. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The network called {@code name} in the API; empty means none. */
        public static Network fromWireName(String name) {
            requireNonNull(name, "name");
            return switch (name) {
                case "", "none" -> NONE;
                case "egress" -> EGRESS;
                default -> throw new IllegalArgumentException("unknown network: " + name);
            };
        }
    }
}
