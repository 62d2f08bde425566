package io.nomadshell.daemon.link;

import io.grpc.stub.ClientCallStreamObserver;
import io.nomadshell.proto.v1.DaemonMessage;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way out to the control plane. Every call on a request stream goes through one lock,
 * because a {@code StreamObserver} is not thread-safe and many tool calls send at once.
 *
 * <p>Tool events and results wait while the transport has no room, so a fast archive cannot
 * pile up in memory behind a slow peer. While no stream is attached, events are dropped and
 * results are held (up to {@value #MAX_HELD_RESULTS}) for the next stream: a long command that
 * ends during a reconnect still reports.
 */
final class Outbox {

    private static final Logger log = LoggerFactory.getLogger(Outbox.class);
    private static final int MAX_HELD_RESULTS = 256;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition writable = lock.newCondition();
    private final ArrayDeque<DaemonMessage> heldResults = new ArrayDeque<>();
    private @Nullable ClientCallStreamObserver<DaemonMessage> stream;

    /** Sends the opening message of a stream that is not attached yet. */
    void sendFirst(ClientCallStreamObserver<DaemonMessage> fresh, DaemonMessage message) {
        lock.lock();
        try {
            trySend(fresh, message);
        } finally {
            lock.unlock();
        }
    }

    /** Makes {@code welcomed} the stream for events and results, and flushes held results. */
    void attach(ClientCallStreamObserver<DaemonMessage> welcomed) {
        lock.lock();
        try {
            stream = welcomed;
            while (!heldResults.isEmpty() && trySend(welcomed, heldResults.peekFirst())) {
                heldResults.removeFirst();
            }
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void detach(ClientCallStreamObserver<DaemonMessage> ended) {
        lock.lock();
        try {
            if (stream == ended) {
                stream = null;
                writable.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Detaches and cancels {@code dead}, a stream that stopped answering. */
    void cancel(ClientCallStreamObserver<DaemonMessage> dead, String why) {
        lock.lock();
        try {
            detach(dead);
            dead.cancel(why, null);
        } finally {
            lock.unlock();
        }
    }

    /** Detaches and half-closes {@code finished}, ending it cleanly from this side. */
    void complete(ClientCallStreamObserver<DaemonMessage> finished) {
        lock.lock();
        try {
            detach(finished);
            finished.onCompleted();
        } catch (RuntimeException e) {
            log.debug("stream already closed: {}", e.toString());
        } finally {
            lock.unlock();
        }
    }

    /** Wakes senders waiting for room; the stream's on-ready handler. */
    void readyChanged() {
        lock.lock();
        try {
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Sends a heartbeat on {@code current} without waiting for room, if it is still attached. */
    void heartbeat(ClientCallStreamObserver<DaemonMessage> current, DaemonMessage message) {
        lock.lock();
        try {
            if (stream == current) {
                trySend(current, message);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Sends a tool event or result, waiting while the attached stream has no room. */
    void send(DaemonMessage message) {
        lock.lock();
        try {
            while (stream != null && !stream.isReady()) {
                if (!awaitRoom()) {
                    break;
                }
            }
            ClientCallStreamObserver<DaemonMessage> current = stream;
            if (current != null && trySend(current, message)) {
                return;
            }
            if (message.hasToolResult()) {
                hold(message);
            }
        } finally {
            lock.unlock();
        }
    }

    private boolean awaitRoom() {
        try {
            // Bounded, so a missed signal costs a second, not a hang.
            writable.await(1, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void hold(DaemonMessage result) {
        if (heldResults.size() == MAX_HELD_RESULTS) {
            DaemonMessage dropped = heldResults.removeFirst();
            log.warn("dropping the held result of call {}: too many waiting for a stream",
                    dropped.getToolResult().getCallId());
        }
        heldResults.addLast(result);
    }

    private static boolean trySend(ClientCallStreamObserver<DaemonMessage> target, DaemonMessage message) {
        try {
            target.onNext(message);
            return true;
        } catch (RuntimeException e) {
            // The call was cancelled or closed under us; the session notices on its own.
            log.debug("could not send on a closed stream: {}", e.toString());
            return false;
        }
    }
}
