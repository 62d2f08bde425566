package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.Claim;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Heartbeat;
import io.nomadshell.proto.v1.Shutdown;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.TunnelFrame;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One daemon's Attach stream: sends it tool calls and routes what comes back (events, results) to
 * whoever made each call. Calls in flight fail with {@link SandboxLostException} if the stream ends.
 */
public final class DaemonSession {
    /** The job's id; a warm-pool member's id until a job claims it. */
    private volatile String jobId;
    private final StreamObserver<ControlMessage> outbound;
    private final ConcurrentHashMap<String, PendingCall> calls = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile Instant lastSeen = Instant.now();
    private volatile Consumer<TunnelFrame> tunnelFrames = DaemonSession::noTunnels;
    private final CompletableFuture<String> claimed = new CompletableFuture<>();

    DaemonSession(String jobId, StreamObserver<ControlMessage> outbound) {
        this.jobId = requireNonNull(jobId, "jobId");
        this.outbound = requireNonNull(outbound, "outbound");
    }

    public String jobId() {
        return jobId;
    }

    /**
     * Sends {@code call} to the daemon. {@code events} receives its output as it streams; the future
     * completes with the result, or exceptionally with {@link SandboxLostException}.
     */
    public CompletableFuture<ToolResult> call(ToolCall call, Consumer<ToolEvent> events) {
        requireNonNull(call, "call");
        var pending = new PendingCall(requireNonNull(events, "events"), new CompletableFuture<>());
        if (calls.putIfAbsent(call.getCallId(), pending) != null) {
            throw new IllegalArgumentException("call id " + call.getCallId() + " is already in flight");
        }
        if (!isOpen()) {
            calls.remove(call.getCallId());
            pending.result.completeExceptionally(new SandboxLostException("the sandbox is not connected"));
            return pending.result;
        }
        send(ControlMessage.newBuilder().setToolCall(call).build());
        return pending.result;
    }

    /**
     * Makes this warm-pool member's stream the job's and sends the daemon its {@code claim}; the future
     * completes once the daemon has switched to the job's credential, or exceptionally with
     * {@link SandboxLostException} if the stream ends first.
     */
    CompletableFuture<String> claim(Claim claim) {
        requireNonNull(claim, "claim");
        this.jobId = claim.getJobId();
        send(ControlMessage.newBuilder().setClaim(claim).build());
        if (!isOpen()) {
            claimed.completeExceptionally(new SandboxLostException("the pool member is not connected"));
        }
        return claimed;
    }

    /** Sends a tunnel frame to the daemon (dropped once the stream has ended). */
    public void sendTunnel(TunnelFrame frame) {
        send(ControlMessage.newBuilder().setTunnel(requireNonNull(frame, "frame")).build());
    }

    /** Where the tunnel frames the daemon sends go; set once, by whoever multiplexes tunnels on this stream. */
    public void onTunnelFrames(Consumer<TunnelFrame> handler) {
        this.tunnelFrames = requireNonNull(handler, "handler");
    }

    /** Asks the daemon to stop and ends the stream. */
    public void shutdown(String reason) {
        synchronized (outbound) {
            if (isOpen()) {
                try {
                    outbound.onNext(ControlMessage.newBuilder()
                            .setShutdown(Shutdown.newBuilder().setReason(reason))
                            .build());
                    outbound.onCompleted();
                } catch (StatusRuntimeException e) {
                    // The daemon's side cancelled the call before we saw it end: no one is left to tell.
                } finally {
                    markClosed("the job has ended");
                }
            }
        }
    }

    public boolean isOpen() {
        return !closed.isDone();
    }

    /** Completes when the stream has ended, for any reason. */
    public CompletableFuture<Void> closed() {
        return closed;
    }

    Instant lastSeen() {
        return lastSeen;
    }

    void heartbeat() {
        send(ControlMessage.newBuilder()
                .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis()))
                .build());
    }

    void onMessage(DaemonMessage message) {
        lastSeen = Instant.now();
        switch (message.getKindCase()) {
            case TOOL_EVENT -> {
                var pending = calls.get(message.getToolEvent().getCallId());
                if (pending != null) {
                    pending.events.accept(message.getToolEvent());
                }
            }
            case TOOL_RESULT -> {
                var pending = calls.remove(message.getToolResult().getCallId());
                if (pending != null) {
                    pending.result.complete(message.getToolResult());
                }
            }
            case TUNNEL -> tunnelFrames.accept(message.getTunnel());
            case CLAIMED -> {
                if (message.getClaimed().getJobId().equals(jobId)) {
                    claimed.complete(jobId);
                }
            }
            case HEARTBEAT, HELLO, KIND_NOT_SET -> {
                // Only proof of life.
            }
        }
    }

    /** The stream ended or was given up on: fail every call still waiting. */
    private void markClosed(String why) {
        if (closed.complete(null)) {
            var lost = new SandboxLostException(why);
            calls.values().forEach(pending -> pending.result.completeExceptionally(lost));
            calls.clear();
            claimed.completeExceptionally(lost);
        }
    }

    /** Ends the stream from our side with an error status, e.g. when the daemon went silent. */
    void abort(Status status) {
        synchronized (outbound) {
            if (isOpen()) {
                markClosed(requireNonNull(status.getDescription(), "status description"));
                outbound.onError(status.asRuntimeException());
            }
        }
    }

    /** The daemon ended the stream (or the connection broke): close our side too. */
    void endedByDaemon(String why) {
        synchronized (outbound) {
            if (isOpen()) {
                markClosed(why);
                outbound.onCompleted();
            }
        }
    }

    private void send(ControlMessage message) {
        // StreamObserver is not thread-safe; tool calls, heartbeats and shutdown come from many threads.
        synchronized (outbound) {
            if (isOpen()) {
                outbound.onNext(message);
            }
        }
    }

    private static void noTunnels(TunnelFrame frame) {
        // No tunnel was ever opened on this stream: nothing to route to.
    }

    private record PendingCall(Consumer<ToolEvent> events, CompletableFuture<ToolResult> result) {}
}
