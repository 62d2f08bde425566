package io.nomadshell.controlplane.launch;

import java.util.Optional;

/** A running sandbox. Closing it kills it and everything started inside it. */
public interface Sandbox extends AutoCloseable {

    String jobId();

    /** Why the sandbox has ended, in words for the user, or empty while it still runs. */
    Optional<String> exitReason();

    /** Kills every process of the sandbox and frees what it held. Idempotent; never throws. */
    @Override
    void close();
}
