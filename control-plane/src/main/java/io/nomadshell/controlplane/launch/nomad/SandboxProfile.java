package io.nomadshell.controlplane.launch.nomad;

import io.nomadshell.controlplane.job.SandboxResources;

/**
 * The part of a sandbox's resources fixed in its parent job (Nomad cannot change resources per
 * dispatch): jobs with the same profile are dispatched from the same parent.
 */
record SandboxProfile(int cpuMhz, int memoryMb, int diskMb) {

    static SandboxProfile of(SandboxResources resources) {
        return new SandboxProfile(resources.cpuMhz(), resources.memoryMb(), resources.diskMb());
    }

    /** The parent job's id: readable in the Nomad UI, e.g. {@code nomad-shell-sandbox-c1000-m1024-d4096}. */
    String parentJobId(String prefix) {
        return prefix + "-c" + cpuMhz + "-m" + memoryMb + "-d" + diskMb;
    }
}
