package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import com.hashicorp.nomad.apimodel.AllocationListStub;
import com.hashicorp.nomad.apimodel.Evaluation;
import io.nomadshell.controlplane.launch.Sandbox;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One dispatched sandbox job, followed with blocking queries on its allocations until it ends:
 * placed, running, ended (and why), or never placed within the deadline (then it is stopped). When
 * it is closed, the launch credential's variable item goes. Not sooner: a removed item re-renders the
 * task's credential file empty, and a running task's daemon may not have read it yet (the first
 * Attach spends it anyway). Not from the follower either, which closing interrupts.
 */
final class NomadSandbox implements Sandbox {
    private static final Logger log = LoggerFactory.getLogger(NomadSandbox.class);
    static final String STOPPED = "the sandbox was stopped";
    private static final Duration WAIT = Duration.ofSeconds(5);
    /** A daemon told to shut down exits within moments: let it, so the job ends with its exit code. */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(3);
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final NomadApi api;
    private final String jobId;
    private final String dispatchedJobId;
    private final String evalId;
    private final int memoryMb;
    private final Duration placementTimeout;
    private final Duration stopTimeout;
    private final Instant placementDeadline;
    private final AtomicReference<@Nullable String> exitReason = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final Thread follower;
    private final Runnable removeCredential;

    private NomadSandbox(NomadApi api, String jobId, String dispatchedJobId, String evalId, int memoryMb,
            NomadOptions options, Runnable removeCredential) {
        this.api = api;
        this.jobId = jobId;
        this.dispatchedJobId = dispatchedJobId;
        this.evalId = evalId;
        this.memoryMb = memoryMb;
        this.placementTimeout = options.placementTimeout();
        this.stopTimeout = options.stopTimeout();
        this.placementDeadline = Instant.now().plus(placementTimeout);
        this.removeCredential = removeCredential;
        this.follower = Thread.ofVirtual().name("nomad-follow-" + jobId).unstarted(this::follow);
    }

    /**
     * Takes ownership of a dispatched job and follows it.
     *
     * @param removeCredential removes the sandbox's launch credential from where its task reads it (once)
     */
    static NomadSandbox follow(NomadApi api, String jobId, String dispatchedJobId, String evalId, int memoryMb,
            NomadOptions options, Runnable removeCredential) {
        var sandbox = new NomadSandbox(requireNonNull(api, "api"), requireNonNull(jobId, "jobId"),
                requireNonNull(dispatchedJobId, "dispatchedJobId"), requireNonNull(evalId, "evalId"), memoryMb,
                requireNonNull(options, "options"), requireNonNull(removeCredential, "removeCredential"));
        sandbox.follower.start();
        return sandbox;
    }

    @Override
    public String jobId() {
        return jobId;
    }

    @Override
    public Optional<String> exitReason() {
        return Optional.ofNullable(exitReason.get());
    }

    /** The dispatched Nomad job: it outlives this replica, and another adopts it by this id. */
    @Override
    public Optional<String> reference() {
        return Optional.of(dispatchedJobId);
    }

    /** Stops following the dispatched job; the job runs on for the replica that adopts it. */
    @Override
    public void leave() {
        if (closed.compareAndSet(false, true)) {
            follower.interrupt();
            log.info("left the sandbox of job {} ({}) running for the replica that takes the job over", jobId,
                    dispatchedJobId);
        }
    }

    private void follow() {
        long index = 0;
        while (!closed.get() && exitReason.get() == null) {
            try {
                var answer = api.allocations(dispatchedJobId, index, WAIT);
                index = answer.index();
                var current = lostOrNewest(answer.value());
                if (current != null) {
                    AllocationWords.endReason(current, memoryMb).ifPresent(this::ended);
                    if (AllocationWords.lost(current)) {
                        // Nomad replaces a lost allocation whatever the reschedule policy; the replacement's
                        // launch credential is spent (and gone from the variable), so it could never attach: stop it.
                        stopQuietly();
                    }
                } else if (Instant.now().isAfter(placementDeadline)) {
                    ended(AllocationWords.notPlaced(blockedEvaluation(), placementTimeout));
                    stopQuietly();
                }
            } catch (NomadApiException e) {
                if (closed.get() || Thread.currentThread().isInterrupted()) {
                    return;
                }
                log.warn("following the sandbox of job {} ({}): {}; retrying", jobId, dispatchedJobId, e.getMessage());
                if (!pause(RETRY)) {
                    return;
                }
            }
        }
    }

    private void ended(String reason) {
        if (exitReason.compareAndSet(null, closed.get() ? STOPPED : reason)) {
            log.info("the sandbox of job {} ({}) ended: {}", jobId, dispatchedJobId, exitReason.get());
        }
    }

    /** The evaluation still waiting for room (blocked), whose metrics say why nothing was placed. */
    private @Nullable Evaluation blockedEvaluation() {
        try {
            var evaluation = api.evaluation(evalId);
            var blocked = evaluation.getBlockedEval();
            return blocked == null || blocked.isEmpty() || evaluation.getFailedTgAllocs() != null
                    ? evaluation : api.evaluation(blocked);
        } catch (NomadApiException e) {
            log.warn("reading the evaluation of job {}: {}", jobId, e.getMessage());
            return null;
        }
    }

    /** The allocation that was lost, if one was (the sandbox with it), else the newest. */
    static @Nullable AllocationListStub lostOrNewest(List<AllocationListStub> allocations) {
        return allocations.stream().filter(AllocationWords::lost).findFirst().orElseGet(() -> newest(allocations));
    }

    private static @Nullable AllocationListStub newest(List<AllocationListStub> allocations) {
        AllocationListStub newest = null;
        for (var allocation : allocations) {
            if (newest == null || allocation.getCreateIndex().compareTo(newest.getCreateIndex()) > 0) {
                newest = allocation;
            }
        }
        return newest;
    }

    /**
     * Lets a daemon that was told to shut down exit by itself, then stops the dispatched job and
     * waits until its allocation has ended (the container is gone). Idempotent; never throws.
     * A cancelled job's thread calls this interrupted, and may be interrupted again meanwhile: the
     * work runs on a thread of its own, bounded by its timeouts, so the sandbox is never left running.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        var closing = Thread.ofVirtual().name("nomad-close-" + jobId).start(this::stopAndAwaitEnd);
        boolean interrupted = false;
        while (true) {
            try {
                closing.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void stopAndAwaitEnd() {
        if (!awaitEnd(EXIT_GRACE)) {
            stopQuietly();
            if (!awaitEnd(stopTimeout)) {
                log.warn("the sandbox of job {} ({}) did not stop within {}", jobId, dispatchedJobId, stopTimeout);
            }
        }
        exitReason.compareAndSet(null, STOPPED);
        follower.interrupt();
        removeCredential.run();
        log.info("closed the sandbox of job {} ({})", jobId, dispatchedJobId);
    }

    /**
     * Waits until the allocation has ended; false on timeout, or at once when there is no allocation
     * and the job was not stopped yet (nothing runs that could end by itself).
     */
    private boolean awaitEnd(Duration timeout) {
        var deadline = Instant.now().plus(timeout);
        long index = 0;
        while (Instant.now().isBefore(deadline)) {
            try {
                var answer = api.allocations(dispatchedJobId, index, Duration.ofSeconds(1));
                index = answer.index();
                var current = newest(answer.value());
                if (current == null) {
                    return stopped.get();
                }
                if (AllocationWords.ended(current)) {
                    return true;
                }
            } catch (NomadApiException e) {
                log.warn("waiting for the sandbox of job {} to end: {}", jobId, e.getMessage());
                if (!pause(RETRY)) {
                    return false;
                }
            }
        }
        return false;
    }

    private void stopQuietly() {
        stopped.set(true);
        try {
            api.stop(dispatchedJobId, false);
        } catch (NomadApiException e) {
            log.warn("stopping the sandbox of job {} ({}): {}", jobId, dispatchedJobId, e.getMessage());
        }
    }

    private static boolean pause(Duration duration) {
        try {
            Thread.sleep(duration);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
