package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.job.SandboxResources.Network;

/**
 * The part of a sandbox's resources fixed in its parent job (Nomad cannot change resources per
 * dispatch): jobs with the same profile are dispatched from the same parent.
 */
record SandboxProfile(int cpuMhz, int memoryMb, Network network, int diskMb) {
    SandboxProfile {
        requireNonNull(network, "network");
    }

    static SandboxProfile of(SandboxResources resources) {
        return new SandboxProfile(resources.cpuMhz(), resources.memoryMb(), resources.network(), resources.diskMb());
    }

    /** The parent job's id: readable in the Nomad UI, e.g. {@code nomad-shell-sandbox-c1000-m1024-d4096-none}. */
    String parentJobId(String prefix) {
        return prefix + "-c" + cpuMhz + "-m" + memoryMb + "-d" + diskMb + "-" + network.wireName();
    }
}
