package io.nomadshell.controlplane.dispatch;

import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.session.DaemonWait;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs tool calls through whichever Attach stream the job's daemon has open. A stream that breaks
 * mid-call fails only that call (the daemon reconnects); a sandbox that has exited, or a daemon that
 * does not come back in time, is fatal.
 */
final class SandboxToolRunner implements ToolRunner {
    private static final Duration REATTACH_TIMEOUT = Duration.ofSeconds(30);

    private final String jobId;
    private final Sandbox sandbox;
    private final SessionRegistry sessions;
    private final Duration reattachTimeout;

    SandboxToolRunner(String jobId, Sandbox sandbox, SessionRegistry sessions) {
        this(jobId, sandbox, sessions, REATTACH_TIMEOUT);
    }

    /** Waits at most {@code reattachTimeout} for a daemon that is between two Attach streams. */
    SandboxToolRunner(String jobId, Sandbox sandbox, SessionRegistry sessions, Duration reattachTimeout) {
        this.jobId = jobId;
        this.sandbox = sandbox;
        this.sessions = sessions;
        this.reattachTimeout = reattachTimeout;
    }

    @Override
    public ToolResult run(ToolCall call, Duration timeout, Consumer<ToolEvent> events)
            throws SandboxLostException, TimeoutException, InterruptedException {
        var session = DaemonWait.await(jobId, sandbox::exitReason, sessions, reattachTimeout);
        var pending = session.call(call, events);
        try {
            return pending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            var exitReason = sandbox.exitReason();
            if (exitReason.isPresent()) {
                throw new SandboxLostException(exitReason.get());
            }
            return ToolResult.newBuilder()
                    .setCallId(call.getCallId())
                    .setError("the connection to the sandbox broke during the call (" + e.getCause().getMessage()
                            + "); it may or may not have run")
                    .build();
        } finally {
            pending.cancel(false);
        }
    }
}
