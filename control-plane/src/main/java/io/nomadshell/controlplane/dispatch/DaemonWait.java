package io.nomadshell.controlplane.dispatch;

import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;

/** Waits for a job's daemon to attach, giving up early when its sandbox has already exited. */
final class DaemonWait {
    private static final Duration POLL = Duration.ofMillis(250);

    private DaemonWait() {}

    static DaemonSession await(String jobId, Sandbox sandbox, SessionRegistry sessions, Duration timeout)
            throws SandboxLostException, InterruptedException {
        var deadline = Instant.now().plus(timeout);
        while (true) {
            var exitReason = sandbox.exitReason();
            if (exitReason.isPresent()) {
                throw new SandboxLostException(exitReason.get());
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
