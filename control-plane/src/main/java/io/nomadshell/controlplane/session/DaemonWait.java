package io.nomadshell.controlplane.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/** Waits for a job's daemon to attach, giving up early when its sandbox has already exited. */
public final class DaemonWait {
    private static final Duration POLL = Duration.ofMillis(250);

    private DaemonWait() {}

    /**
     * The session of {@code jobId} (a job or a pool member) once its daemon has attached.
     *
     * @param exitReason why the sandbox has ended, or empty while it runs
     * @throws SandboxLostException when the sandbox ended first, or nothing attached within {@code timeout}
     */
    public static DaemonSession await(String jobId, Supplier<Optional<String>> exitReason, SessionRegistry sessions,
            Duration timeout) throws SandboxLostException, InterruptedException {
        var deadline = Instant.now().plus(timeout);
        while (true) {
            var ended = exitReason.get();
            if (ended.isPresent()) {
                throw new SandboxLostException(ended.get());
            }
            try {
                return sessions.await(jobId, POLL);
            } catch (TimeoutException notYet) {
                if (Instant.now().isAfter(deadline)) {
                    throw new SandboxLostException("the sandbox's agent daemon did not connect within "
                            + timeout.toSeconds() + " s");
                }
            }
        }
    }
}
