package io.nomadshell.controlplane.launch;

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
}
