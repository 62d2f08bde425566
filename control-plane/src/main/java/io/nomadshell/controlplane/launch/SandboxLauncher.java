package io.nomadshell.controlplane.launch;

import io.nomadshell.controlplane.job.SandboxResources;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Starts the sandbox a job runs in. The sandbox's agent daemon then dials back over Attach with the
 * token in the {@link SandboxSpec}; the launcher only starts, watches and stops it.
 */
public interface SandboxLauncher {

    /**
     * Starts a sandbox for {@code spec}. Returns once it has been started, not once the daemon has
     * attached.
     *
     * @throws LaunchException when the sandbox could not be started, with a message for the user
     */
    Sandbox launch(SandboxSpec spec) throws LaunchException;

    /**
     * The running sandbox of {@code jobId} that another replica started, found by its
     * {@link Sandbox#reference()}, to be watched and stopped from here from now on; empty when it has
     * ended (or this launcher's sandboxes die with their replica).
     *
     * @param resources what the job's sandbox was given, for the words of its end
     */
    default Optional<Sandbox> adopt(String jobId, String reference, SandboxResources resources) {
        return Optional.empty();
    }

    /**
     * Whether the jobs of a replica that stops cleanly can go on under another replica in the sandboxes
     * they run in: those outlive the replica, and their daemons know another replica's Attach address
     * to redial. False by default: they die with it, or no other replica could reach them.
     */
    default boolean handsOverOnStop() {
        return false;
    }

    /**
     * Starts a warm-pool sandbox for {@code spec}, to be claimed by a job later. Returns once it has been
     * started, not once its daemon has attached.
     *
     * @throws LaunchException when it could not be started, or this launcher keeps no warm pool
     */
    default PoolSandbox startMember(MemberSpec spec) throws LaunchException {
        throw new LaunchException("this launcher keeps no warm pool");
    }

    /**
     * What a warm-pool sandbox of {@code resources} holds against the pool's memory budget from its
     * start, before it has used anything: 0 by default, where a member counts what it is measured to use.
     */
    default long memberMemoryBytes(SandboxResources resources) {
        return 0;
    }

    /**
     * Reclaims what a control plane that died ({@code kill -9}) left on this host for the sandboxes
     * whose workspaces live in {@code workspaces}; called once at start, before any job runs.
     * Nothing to do by default: sandboxes die with their control plane.
     */
    default void reclaimLeftovers(Path workspaces) {}

    /**
     * Stops every sandbox of this launcher still running and waits until they are gone: the last step
     * of a server's stop, for what its jobs' own close did not reach in time. Nothing to do by default:
     * sandboxes that outlive their control plane are a {@link ReconcilingLauncher}'s to stop.
     */
    default void stopEverySandbox() {}
}
