package io.nomadshell.controlplane.dispatch;

import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.session.DaemonWait;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.controlplane.trace.JobTracer;
import io.nomadshell.controlplane.trace.Traceparent;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs tool calls through whichever Attach stream the job's daemon has open. A stream that breaks
 * mid-call fails only that call (the daemon reconnects); a sandbox that has exited (or that its
 * launcher lost, even while its stream is still open), or a daemon that does not come back in time,
 * is fatal.
 */
final class SandboxToolRunner implements ToolRunner {
    private static final Duration REATTACH_TIMEOUT = Duration.ofSeconds(30);
    /** How often a running call looks whether its sandbox has ended under it. */
    private static final Duration LOST_CHECK = Duration.ofSeconds(1);

    private final String jobId;
    private final Sandbox sandbox;
    private final SessionRegistry sessions;
    private final Duration reattachTimeout;
    private final JobTracer tracer;

    SandboxToolRunner(String jobId, Sandbox sandbox, SessionRegistry sessions, JobTracer tracer) {
        this(jobId, sandbox, sessions, REATTACH_TIMEOUT, tracer);
    }

    /** Waits at most {@code reattachTimeout} for a daemon that is between two Attach streams. */
    SandboxToolRunner(String jobId, Sandbox sandbox, SessionRegistry sessions, Duration reattachTimeout,
            JobTracer tracer) {
        this.jobId = jobId;
        this.sandbox = sandbox;
        this.sessions = sessions;
        this.reattachTimeout = reattachTimeout;
        this.tracer = tracer;
    }

    /** Every call to the daemon is a span, with the daemon's side of it as its child. */
    @Override
    public ToolResult run(ToolCall call, Duration timeout, Consumer<ToolEvent> events)
            throws SandboxLostException, TimeoutException, InterruptedException {
        var span = tracer.toolCall(call);
        try {
            var result = runUntraced(call.toBuilder().setTraceparent(Traceparent.of(span)).build(), timeout, events);
            tracer.toolResult(span, result);
            return result;
        } catch (SandboxLostException | TimeoutException | InterruptedException | RuntimeException e) {
            JobTracer.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    private ToolResult runUntraced(ToolCall call, Duration timeout, Consumer<ToolEvent> events)
            throws SandboxLostException, TimeoutException, InterruptedException {
        var session = DaemonWait.await(jobId, sandbox::exitReason, sessions, reattachTimeout);
        var pending = session.call(call, events);
        try {
            return result(pending, timeout);
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

    /**
     * The call's result. A sandbox its launcher says has ended (Nomad lost its node, say) ends the wait
     * at once, though its stream may still be open: what still runs there is being taken away.
     */
    private ToolResult result(CompletableFuture<ToolResult> pending, Duration timeout)
            throws ExecutionException, TimeoutException, InterruptedException, SandboxLostException {
        var deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            var left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException();
            }
            try {
                return pending.get(Math.min(left, LOST_CHECK.toNanos()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException notYet) {
                var ended = sandbox.exitReason();
                if (ended.isPresent()) {
                    throw new SandboxLostException(ended.get());
                }
            }
        }
    }
}
