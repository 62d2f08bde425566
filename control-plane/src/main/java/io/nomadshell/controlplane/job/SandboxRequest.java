package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The sandbox resources a schedule request asked for; 0 or empty means the server's default.
 * {@link ResourcePolicy#grant(SandboxRequest)} turns it into {@link SandboxResources}.
 *
 * @param cpuMhz CPU in MHz
 * @param memoryMb memory in MiB
 * @param timeoutSeconds wall time in seconds
 * @param network {@code none} or empty ({@code egress} is refused: see {@code egressAllow})
 * @param egressAllow the host patterns the job asks to reach through its egress proxy
 * @param diskMb workspace (and {@code /tmp}) size in MiB
 */
public record SandboxRequest(int cpuMhz, int memoryMb, int timeoutSeconds, String network, List<String> egressAllow,
        int diskMb) {
    /** Asks for nothing: every resource takes the server's default. */
    public static final SandboxRequest DEFAULTS = new SandboxRequest(0, 0, 0, "", List.of(), 0);

    public SandboxRequest {
        requireNonNull(network, "network");
        egressAllow = List.copyOf(egressAllow);
    }

    /** A request that leaves the disk to the server's default. */
    public SandboxRequest(int cpuMhz, int memoryMb, int timeoutSeconds, String network, List<String> egressAllow) {
        this(cpuMhz, memoryMb, timeoutSeconds, network, egressAllow, 0);
    }
}
