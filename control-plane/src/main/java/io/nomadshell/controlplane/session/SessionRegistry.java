package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The daemons attached to this replica, by job. A job runner first {@link #expect}s its daemon, then
 * {@link #await}s it; the registry also beats the heart of every stream and drops silent ones.
 */
public final class SessionRegistry implements AutoCloseable {
    private final Duration heartbeatInterval;
    private final Duration reattachWindow;
    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("attach-heartbeat").daemon().factory());
    private volatile Consumer<DaemonSession> onAttach = session -> {};

    /**
     * Streams that beat every {@code heartbeatInterval}, whose daemons are told to redial for
     * {@code reattachWindow} once a stream breaks.
     */
    public SessionRegistry(Duration heartbeatInterval, Duration reattachWindow) {
        this.heartbeatInterval = requireNonNull(heartbeatInterval, "heartbeatInterval");
        this.reattachWindow = requireNonNull(reattachWindow, "reattachWindow");
        long millis = heartbeatInterval.toMillis();
        ticker.scheduleAtFixedRate(this::beat, millis, millis, TimeUnit.MILLISECONDS);
    }

    public Duration heartbeatInterval() {
        return heartbeatInterval;
    }

    public Duration reattachWindow() {
        return reattachWindow;
    }

    /** Runs {@code listener} for every stream that attaches, before any message after its Hello is read (set once). */
    public void onAttach(Consumer<DaemonSession> listener) {
        this.onAttach = requireNonNull(listener, "listener");
    }

    /** Lets a daemon of {@code jobId} attach here. */
    public void expect(String jobId) {
        slots.putIfAbsent(requireNonNull(jobId, "jobId"), new Slot());
    }

    public boolean isExpected(String jobId) {
        return slots.containsKey(jobId);
    }

    /**
     * The job's open session, waiting up to {@code timeout} for the daemon to (re)attach.
     *
     * @throws TimeoutException when no daemon attached in time
     */
    public DaemonSession await(String jobId, Duration timeout) throws TimeoutException, InterruptedException {
        var slot = slots.get(jobId);
        if (slot == null) {
            throw new IllegalStateException("job " + jobId + " is not expected here");
        }
        CompletableFuture<DaemonSession> next;
        synchronized (slot) {
            if (slot.current != null && slot.current.isOpen()) {
                return slot.current;
            }
            next = slot.next;
        }
        try {
            return next.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** The job's session on this replica, if its daemon is attached here now. */
    public Optional<DaemonSession> current(String jobId) {
        var slot = slots.get(requireNonNull(jobId, "jobId"));
        if (slot == null) {
            return Optional.empty();
        }
        synchronized (slot) {
            return Optional.ofNullable(slot.current).filter(DaemonSession::isOpen);
        }
    }

    /** Stops expecting the job and closes its session, if any. */
    public void forget(String jobId, String reason) {
        var slot = slots.remove(jobId);
        if (slot != null) {
            synchronized (slot) {
                if (slot.current != null) {
                    slot.current.shutdown(reason);
                }
            }
        }
    }

    /**
     * Stops expecting the job and drops its stream without telling the daemon to stop: this replica
     * no longer drives the job, and the daemon redials another replica, which takes the job over.
     */
    public void drop(String jobId, String reason) {
        var slot = slots.remove(requireNonNull(jobId, "jobId"));
        if (slot != null) {
            synchronized (slot) {
                if (slot.current != null) {
                    slot.current.abort(Status.UNAVAILABLE.withDescription(reason));
                }
            }
        }
    }

    /**
     * Moves a warm-pool member's live session to {@code jobId}, which must be expected: from now on it
     * is the job's session (and {@link #onAttach} runs for it), the member is no longer expected.
     *
     * @throws SandboxLostException when the member is not attached here (its stream broke)
     */
    DaemonSession handOver(String memberId, String jobId) throws SandboxLostException {
        var member = slots.remove(requireNonNull(memberId, "memberId"));
        var slot = slots.get(requireNonNull(jobId, "jobId"));
        if (slot == null) {
            throw new IllegalStateException("job " + jobId + " is not expected here");
        }
        DaemonSession session = null;
        if (member != null) {
            synchronized (member) {
                session = member.current;
            }
        }
        if (session == null || !session.isOpen()) {
            throw new SandboxLostException("the warm-pool sandbox " + memberId + " is not attached");
        }
        synchronized (slot) {
            slot.current = session;
            var waiting = slot.next;
            slot.next = new CompletableFuture<>();
            waiting.complete(session);
        }
        return session;
    }

    /** Runs the attach listener for a claimed session, now that it carries its job's id. */
    void claimed(DaemonSession session) {
        onAttach.accept(session);
    }

    /** Whether a session could be recorded for its job. */
    enum Attached { YES, NOT_EXPECTED, ALREADY_LIVE }

    /**
     * Records a newly attached session, unless its job is not expected here or already has a live
     * stream: that one is left untouched (a second Attach may be a replayed credential).
     */
    Attached attached(DaemonSession session) {
        var slot = slots.get(session.jobId());
        if (slot == null) {
            return Attached.NOT_EXPECTED;
        }
        synchronized (slot) {
            if (slot.current != null && slot.current.isOpen()) {
                return Attached.ALREADY_LIVE;
            }
            slot.current = session;
            var waiting = slot.next;
            slot.next = new CompletableFuture<>();
            waiting.complete(session);
        }
        // A warm-pool member is nobody's yet: the listener runs when a job claims it.
        if (!MemberIds.isWellFormed(session.jobId())) {
            onAttach.accept(session);
        }
        return Attached.YES;
    }

    private void beat() {
        var silentSince = Instant.now().minus(heartbeatInterval.multipliedBy(3));
        for (var slot : slots.values()) {
            DaemonSession session;
            synchronized (slot) {
                session = slot.current;
            }
            if (session == null || !session.isOpen()) {
                continue;
            }
            if (session.lastSeen().isBefore(silentSince)) {
                session.abort(Status.UNAVAILABLE.withDescription("the sandbox stopped responding (no heartbeat for "
                        + heartbeatInterval.multipliedBy(3).toSeconds() + " s)"));
            } else {
                session.heartbeat();
            }
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        slots.keySet().forEach(jobId -> forget(jobId, "the control plane is shutting down"));
    }

    private static final class Slot {
        @Nullable DaemonSession current;
        CompletableFuture<DaemonSession> next = new CompletableFuture<>();
    }
}
