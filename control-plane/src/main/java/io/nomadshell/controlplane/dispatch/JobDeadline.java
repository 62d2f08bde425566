package io.nomadshell.controlplane.dispatch;

import java.time.Duration;
import java.time.Instant;

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

    private JobDeadline(Duration timeout, Instant startedAt, Thread job) {
        this.timeout = timeout;
        var left = Duration.between(Instant.now(), startedAt.plus(timeout).plus(SLACK));
        this.watchdog = Thread.ofVirtual().name("deadline-" + job.getName()).unstarted(() -> {
            try {
                Thread.sleep(left.isNegative() ? Duration.ZERO : left);
                expired = true;
                job.interrupt();
            } catch (InterruptedException closed) {
                // the job ended in time
            }
        });
    }

    /**
     * Watches the calling thread's job, which may run for {@code timeout} from {@code startedAt}
     * (earlier than now when the job resumes after its control plane stopped).
     */
    static JobDeadline start(Duration timeout, Instant startedAt) {
        var deadline = new JobDeadline(timeout, startedAt, Thread.currentThread());
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
