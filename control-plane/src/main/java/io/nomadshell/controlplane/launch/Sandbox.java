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

    /** Kills every process of the sandbox and frees what it held. Idempotent; never throws. */
    @Override
    void close();
}
