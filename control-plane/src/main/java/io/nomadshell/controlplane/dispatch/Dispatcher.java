package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.store.JobQueue;
import io.nomadshell.controlplane.store.JobSignals;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.Lease;
import io.nomadshell.controlplane.store.LeaseLostException;
import io.nomadshell.controlplane.store.Leases;
import io.nomadshell.controlplane.store.QueuedJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands queued jobs to {@link JobRunner}s, at most {@code maxRunning} at a time on this replica.
 * It also holds the leases of the jobs it runs, takes over queue entries a dead replica left
 * unacknowledged, and resumes jobs whose owner stopped renewing their lease (it stopped or died).
 */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
    static final Duration LEASE_TTL = Duration.ofSeconds(15);
    /** A third of the TTL: a lease survives two renewals that fail or come late. */
    private static final Duration RENEW_EVERY = LEASE_TTL.dividedBy(3);
    /** How long a renewal may wait for Redis: a stalled Redis leaves time for another try before the TTL. */
    private static final Duration RENEW_WAIT = RENEW_EVERY.dividedBy(2);
    /**
     * How long after its last good renewal this replica stops driving its jobs when it cannot renew:
     * well before their leases lapse, so it has stopped before another replica may take them.
     */
    private static final Duration DRIVE_WITHOUT_RENEWAL = LEASE_TTL.minus(RENEW_EVERY);
    private static final Duration HOUSEKEEPING_EVERY = Duration.ofSeconds(5);
    /** For all running jobs together to stop at close; a server's whole stop must fit a supervisor's 20 s or so. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(8);

    private final JobQueue queue;
    private final JobStore store;
    private final Leases leases;
    private final JobRunner runner;
    private final String replicaId;
    private final Semaphore slots;
    private final Map<String, RunningJob> running = new ConcurrentHashMap<>();
    private final ArrayDeque<QueuedJob> reclaimed = new ArrayDeque<>();
    private volatile boolean closed;
    private final Thread loop;
    private final Thread renewer;

    public Dispatcher(JobQueue queue, JobStore store, Leases leases, JobSignals signals, JobRunner runner,
            String replicaId, int maxRunning) {
        this.queue = requireNonNull(queue, "queue");
        this.store = requireNonNull(store, "store");
        this.leases = requireNonNull(leases, "leases");
        this.runner = requireNonNull(runner, "runner");
        this.replicaId = requireNonNull(replicaId, "replicaId");
        this.slots = new Semaphore(maxRunning);
        signals.onCancel(this::cancelLocally);
        this.loop = Thread.ofVirtual().name("dispatcher").unstarted(this::dispatchLoop);
        this.renewer = Thread.ofVirtual().name("lease-renewer").unstarted(this::renewLoop);
    }

    public void start() {
        loop.start();
        renewer.start();
    }

    /** How many jobs run on this replica now. */
    public int running() {
        return running.size();
    }

    /**
     * Stops taking queued jobs. Shutdown begins here: where another replica can go on with the jobs
     * running here in their sandboxes, each is handed over at once (its thread then ends and gives its
     * lease back, so the next owner need not wait for it to lapse); otherwise they run until {@link #close}.
     */
    public void stopTaking() {
        closed = true;
        runner.stopping();
        loop.interrupt();
        renewer.interrupt();
        if (runner.handsOverOnStop()) {
            running.keySet().forEach(jobId -> handOver(jobId, "Stopping: handing job {} over to another replica"));
        }
    }

    private void dispatchLoop() {
        var nextHousekeeping = Instant.now();
        while (!closed) {
            try {
                if (Instant.now().isAfter(nextHousekeeping)) {
                    housekeeping();
                    nextHousekeeping = Instant.now().plus(HOUSEKEEPING_EVERY);
                }
                if (!slots.tryAcquire(1, TimeUnit.SECONDS)) {
                    continue;
                }
                var next = reclaimed.isEmpty() ? queue.take(Duration.ofSeconds(1)) : Optional.of(reclaimed.remove());
                if (next.isEmpty()) {
                    slots.release();
                    continue;
                }
                takeOver(next.get());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                log.warn("Dispatcher could not reach Redis ({}); retrying", e.getMessage());
                sleepQuietly(Duration.ofSeconds(1));
            }
        }
    }

    /** A job this replica drives, on its own thread, under its lease. */
    private record RunningJob(Thread thread, Lease lease) {}

    /** Owns the job through its lease before moving it to starting, so a sweeper never sees it ownerless. */
    private void takeOver(QueuedJob entry) {
        var jobId = entry.jobId();
        Lease lease = null;
        boolean started = false;
        try {
            lease = leases.acquire(jobId, replicaId, LEASE_TTL).orElse(null);
            if (lease != null) {
                started = store.transition(jobId, JobStatus.STARTING, null, Map.of()).applied();
            }
            queue.acknowledge(entry);
        } finally {
            if (!started) {
                if (lease != null) {
                    leases.release(lease);
                }
                slots.release();
            }
        }
        startRunner(lease);
    }

    /** Runs the job on a thread of its own; it holds a slot and the lease, and gives both back at the end. */
    private void startRunner(Lease lease) {
        var jobId = lease.jobId();
        var thread = Thread.ofVirtual().name("job-" + jobId).unstarted(() -> {
            try {
                runner.run(jobId);
            } catch (LeaseLostException e) {
                // Refused while the job was being failed or kept: it is another replica's to end.
                log.warn("Job {} is left to its next owner: {}", jobId, e.getMessage());
            } finally {
                running.remove(jobId);
                try {
                    leases.release(lease);
                    // A message that came while the job was ending or pausing: it goes on with it.
                    if (store.sessions().hasMessages(jobId) && store.goOn(jobId)) {
                        log.info("Job {} goes on with a message that came as it stopped", jobId);
                    }
                } catch (RuntimeException e) {
                    log.warn("Could not release the lease of job {} ({}); it lapses on its own", jobId, e.getMessage());
                } finally {
                    slots.release();
                }
            }
        });
        running.put(jobId, new RunningJob(thread, lease));
        thread.start();
    }

    /**
     * Renews the leases of every job running here in one round trip, on a thread of its own: neither
     * a busy dispatch loop nor the number of jobs may delay it past the TTL.
     */
    private void renewLoop() {
        var lastRenewed = System.nanoTime();
        while (!closed) {
            try {
                var held = running.values().stream().map(RunningJob::lease).toList();
                var renewedAt = System.nanoTime();
                for (var lost : leases.renew(held, LEASE_TTL, RENEW_WAIT)) {
                    // Another replica may have taken it over already: stop here so it never runs twice.
                    handOver(lost.jobId(), "Lost the lease of job {}; stopping it here");
                }
                lastRenewed = renewedAt;
                Thread.sleep(RENEW_EVERY);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | TimeoutException e) {
                if (closed) {
                    return;
                }
                log.warn("Could not renew the leases of the jobs running here ({}); retrying",
                        e instanceof TimeoutException ? "Redis did not answer within " + RENEW_WAIT : e.getMessage());
                if (System.nanoTime() - lastRenewed > DRIVE_WITHOUT_RENEWAL.toNanos()) {
                    // The leases may lapse before the next try: stop first, so no job is ever driven twice.
                    running.keySet().forEach(jobId -> handOver(jobId,
                            "Could not renew the lease of job {} in time; stopping it here for another replica"));
                }
                sleepQuietly(Duration.ofSeconds(1));
            }
        }
    }

    /** Stops driving a job here without ending it: its next owner resumes it. */
    private void handOver(String jobId, String why) {
        var job = running.get(jobId);
        if (job != null && runner.handOver(jobId)) {
            log.warn(why, jobId);
            job.thread().interrupt();
        }
    }

    private void housekeeping() {
        reclaimed.addAll(queue.reclaimStale(LEASE_TTL));
        for (var jobId : store.activeJobs()) {
            if (closed || running.containsKey(jobId) || leases.isHeld(jobId) || !slots.tryAcquire()) {
                continue;
            }
            // Its owner stopped renewing the lease: take the job over and go on from its transcript.
            var lease = leases.acquire(jobId, replicaId, LEASE_TTL);
            if (lease.isPresent()) {
                log.info("Taking over job {}: the control plane that ran it stopped", jobId);
                startRunner(lease.get());
            } else {
                slots.release();
            }
        }
    }

    private void cancelLocally(String jobId) {
        var job = running.get(jobId);
        if (job != null) {
            log.info("Cancelling job {}", jobId);
            job.thread().interrupt();
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops taking jobs, interrupts the running ones and waits, {@link #CLOSE_WAIT} for all of them
     * together, for their sandboxes to be gone; the launcher stops what is still running after that.
     */
    @Override
    public void close() {
        stopTaking();
        running.values().forEach(job -> job.thread().interrupt());
        var deadline = Instant.now().plus(CLOSE_WAIT);
        for (var job : running.values()) {
            var left = Duration.between(Instant.now(), deadline);
            try {
                if (!left.isPositive() || !job.thread().join(left)) {
                    log.warn("{} jobs were still stopping after {}; the launcher stops their sandboxes", running.size(),
                            CLOSE_WAIT);
                    break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        try {
            loop.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
