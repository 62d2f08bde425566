package io.nomadshell.controlplane.launch;

import java.util.function.Predicate;

/**
 * A launcher whose sandboxes live outside this process (on a cluster) and can outlive it: it
 * compares, in the background, what still runs with what the job store says, and stops the
 * sandboxes of jobs that have ended. The control plane starts it once and closes it on shutdown.
 */
public interface ReconcilingLauncher extends SandboxLauncher {

    /**
     * Starts reconciling now and then periodically until the returned handle is closed.
     *
     * @param jobIsActive whether a job (by id) has yet to end; its sandbox is kept while it has
     */
    AutoCloseable startReconciling(Predicate<String> jobIsActive);
}
