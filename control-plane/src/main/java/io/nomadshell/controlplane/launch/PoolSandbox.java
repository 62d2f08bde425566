package io.nomadshell.controlplane.launch;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A warm-pool sandbox: started with a pool member's identity only (its {@link #jobId()} is the member
 * id until claimed), an empty workspace and no job credential. A job claims it once; it is never
 * given back to the pool, so no job ever sees another's files.
 */
public interface PoolSandbox extends Sandbox {

    /** When the sandbox was started, before any job claimed it. */
    Instant startedAt();

    /**
     * Gives the sandbox to {@code jobId}: from now on its workspace is the job's, at {@code workspace}
     * on this host for a local sandbox (an empty directory the job's files then appear in).
     *
     * @throws LaunchException when the workspace cannot be given; the sandbox is then of no use
     */
    void claim(String jobId, Path workspace) throws LaunchException;

    /**
     * Memory the idle sandbox holds now, in bytes: what its processes use (proportional set size), or its
     * reservation where the launcher reserves memory (Nomad); 0 when unknown.
     */
    long memoryBytes();
}
