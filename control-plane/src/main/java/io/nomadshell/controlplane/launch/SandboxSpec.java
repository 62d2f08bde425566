package io.nomadshell.controlplane.launch;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * What a launcher needs to start one job's sandbox.
 *
 * @param jobId the job the sandbox belongs to
 * @param token the job-scoped Attach token the daemon presents; never logged
 * @param workspace the host directory that becomes the sandbox's writable workspace
 */
public record SandboxSpec(String jobId, String token, Path workspace) {
    public SandboxSpec {
        requireNonNull(jobId, "jobId");
        requireNonNull(token, "token");
        requireNonNull(workspace, "workspace");
    }

    @Override
    public String toString() {
        return "SandboxSpec[jobId=" + jobId + ", workspace=" + workspace + "]";
    }
}
