package io.nomadshell.controlplane.agent;

import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/** Runs one tool call in the job's sandbox; the loop does not care how the sandbox is reached. */
@FunctionalInterface
public interface ToolRunner {
    /** Waits until the sandbox takes calls (a new sandbox's daemon may still be starting); before a call's events. */
    default void awaitSandbox() throws SandboxLostException, InterruptedException {}

    ToolResult run(ToolCall call, Duration timeout, Consumer<ToolEvent> events)
            throws SandboxLostException, TimeoutException, InterruptedException;

    /**
     * Whether the sandbox is the one the job's calls ran in before this replica took it over: its
     * daemon still knows them by call id, so a call left unanswered is asked again (the daemon gives
     * its result, or waits for it, and never runs it twice) instead of being reported lost.
     */
    default boolean keptCalls() {
        return false;
    }

    /**
     * Keeps the workspace as it is after {@code step} as a checkpoint, where the job's workspace is
     * kept at all (a runner without a sandbox keeps nothing). A checkpoint that fails is not the
     * job's end: that step only cannot be rolled back to.
     */
    default void checkpoint(int step) throws SandboxLostException, InterruptedException {}
}
