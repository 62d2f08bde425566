package io.nomadshell.controlplane.launch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.SandboxResources;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * What a launcher needs to start one job's sandbox.
 *
 * @param jobId the job the sandbox belongs to
 * @param token the job-scoped, single-use launch token the daemon presents on its first Attach; never logged
 * @param workspace the host directory that becomes the sandbox's writable workspace (launchers
 *     whose sandboxes run elsewhere keep the workspace inside; it comes back through the archive tool)
 * @param submitter who scheduled the job, shown to operators beside the sandbox
 * @param task the job's task, whose first words are shown to operators beside the sandbox
 * @param resources what the sandbox may use; null leaves it to the launcher's own configuration
 * @param traceparent the W3C traceparent of the launch's span, for the sandbox's own records (Nomad's
 *     dispatch meta); empty when not traced
 */
public record SandboxSpec(
        String jobId, String token, Path workspace, String submitter, String task,
        @Nullable SandboxResources resources, String traceparent) {
    public SandboxSpec {
        requireNonNull(jobId, "jobId");
        requireNonNull(token, "token");
        requireNonNull(workspace, "workspace");
        requireNonNull(submitter, "submitter");
        requireNonNull(task, "task");
        requireNonNull(traceparent, "traceparent");
    }

    /** A sandbox as the launcher is configured, with nothing to show operators, as launchers' tests start them. */
    public SandboxSpec(String jobId, String token, Path workspace) {
        this(jobId, token, workspace, "", "", null, "");
    }

    @Override
    public String toString() {
        return "SandboxSpec[jobId=" + jobId + ", workspace=" + workspace + ", resources=" + resources + "]";
    }
}
