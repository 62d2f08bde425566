package io.nomadshell.controlplane.launch;

import java.nio.file.Path;
import java.util.Optional;

/** A running sandbox. Closing it kills it and everything started inside it. */
public interface Sandbox extends AutoCloseable {

    String jobId();

    /** Why the sandbox has ended, in words for the user, or empty while it still runs. */
    Optional<String> exitReason();

    /**
     * The host directory that holds the workspace's files, readable until the sandbox is closed (also
     * after it has ended on its own); empty when the workspace lives elsewhere, as on a Nomad node.
     */
    default Optional<Path> workspaceOnHost() {
        return Optional.empty();
    }

    /**
     * What another replica finds this sandbox by to adopt it ({@link SandboxLauncher#adopt}) when this
     * one stops driving its job; empty for a sandbox that dies with the replica that started it.
     */
    default Optional<String> reference() {
        return Optional.empty();
    }

    /**
     * Stops watching the sandbox from this replica and leaves it running, for the replica that takes
     * its job over to adopt; a sandbox that cannot be adopted ({@link #reference()} empty) is closed.
     */
    default void leave() {
        close();
    }

    /** Kills every process of the sandbox and frees what it held. Idempotent; never throws. */
    @Override
    void close();
}
