package io.nomadshell.controlplane.dispatch;

import java.time.Duration;

/**
 * Interrupts a job's thread once the job's wall time is over, so that one long tool call cannot
 * outlast it (the agent loop itself checks the time only between steps).
 */
final class JobDeadline implements AutoCloseable {
    /** Past the loop's own check, which says the same between steps. */
    private static final Duration SLACK = Duration.ofSeconds(2);

    private final Duration timeout;
    private final Thread watchdog;
    private volatile boolean expired;

    private JobDeadline(Duration timeout, Thread job) {
        this.timeout = timeout;
        this.watchdog = Thread.ofVirtual().name("deadline-" + job.getName()).unstarted(() -> {
            try {
                Thread.sleep(timeout.plus(SLACK));
                expired = true;
                job.interrupt();
            } catch (InterruptedException closed) {
                // the job ended in time
            }
        });
    }

    /** Starts counting {@code timeout} for the calling thread's job. */
    static JobDeadline start(Duration timeout) {
        var deadline = new JobDeadline(timeout, Thread.currentThread());
        deadline.watchdog.start();
        return deadline;
    }

    /** Whether the deadline interrupted the job. */
    boolean expired() {
        return expired;
    }

    /** The job's error once it expired. */
    String reason() {
        var limit = timeout.toMinutes() > 0 ? timeout.toMinutes() + " min" : timeout.toSeconds() + " s";
        return "the job ran out of time (limit " + limit + ")";
    }

    @Override
    public void close() {
        watchdog.interrupt();
    }
}
