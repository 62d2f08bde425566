package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import io.grpc.stub.ServerCallStreamObserver;

/**
 * Flow control for one server stream: the sender waits until the client's transport takes more
 * ({@code isReady}, woken by {@code onReady}), so a client that does not read holds at most a
 * flow-control window of the server's memory, and its sender parks (on a virtual thread) instead of
 * piling messages up. Must be made while the call is being started, as gRPC requires of its handlers.
 */
final class StreamGate {
    private static final long RECHECK_MILLIS = 1_000;

    private final ServerCallStreamObserver<?> call;
    private final Object lock = new Object();

    /** {@code onCancel} runs, once, when the client goes away. */
    StreamGate(ServerCallStreamObserver<?> call, Runnable onCancel) {
        this.call = requireNonNull(call, "call");
        requireNonNull(onCancel, "onCancel");
        call.setOnReadyHandler(this::wake);
        call.setOnCancelHandler(() -> {
            wake();
            onCancel.run();
        });
    }

    StreamGate(ServerCallStreamObserver<?> call) {
        this(call, () -> {});
    }

    /** Waits until the client can take a message; false once it has gone. */
    boolean awaitReady() throws InterruptedException {
        synchronized (lock) {
            while (!call.isReady() && !call.isCancelled()) {
                lock.wait(RECHECK_MILLIS);
            }
        }
        return !call.isCancelled();
    }

    boolean cancelled() {
        return call.isCancelled();
    }

    private void wake() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }
}
