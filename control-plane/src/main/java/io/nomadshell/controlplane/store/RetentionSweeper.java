package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.seed.Uploads;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forgets jobs whose retention has passed: their files (zip, screenshots) first, then every Redis key
 * and their place in the owner's index, a bounded number of jobs a pass. Their keys also expire on
 * their own (set when they ended); this pass removes what expiry cannot reach (files, index entries)
 * and keys a late write created. Every replica runs one: a job two replicas sweep at once is
 * forgotten once, and deleting its files twice is harmless. Each pass also deletes the uploads no job
 * took within their TTL.
 */
public final class RetentionSweeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RetentionSweeper.class);
    static final int BATCH = 100;
    private static final int BATCHES_PER_PASS = 10;
    private static final Duration LONGEST_PAUSE = Duration.ofMinutes(1);

    private final JobStore store;
    private final ArtifactStore artifacts;
    private final Uploads uploads;
    private final Clock clock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("retention-sweeper").factory());

    private RetentionSweeper(JobStore store, ArtifactStore artifacts, Uploads uploads, Clock clock) {
        this.store = store;
        this.artifacts = artifacts;
        this.uploads = uploads;
        this.clock = clock;
    }

    /** Sweeps now and then: a quarter of the retention apart, at most a minute. */
    public static RetentionSweeper start(JobStore store, ArtifactStore artifacts, Uploads uploads) {
        var sweeper = new RetentionSweeper(requireNonNull(store, "store"), requireNonNull(artifacts, "artifacts"),
                requireNonNull(uploads, "uploads"), Clock.systemUTC());
        long pause = Math.max(50, Math.min(store.retention().toMillis() / 4, LONGEST_PAUSE.toMillis()));
        sweeper.timer.scheduleWithFixedDelay(sweeper::sweepQuietly, pause, pause, TimeUnit.MILLISECONDS);
        return sweeper;
    }

    /** One pass; returns how many jobs it forgot. */
    int sweep() throws IOException {
        int forgotten = 0;
        for (var ended : store.endedBefore(clock.instant().minus(store.retention()), BATCH)) {
            artifacts.delete(JobStore.jobIdOf(ended));
            if (store.forget(ended)) {
                forgotten++;
            }
        }
        return forgotten;
    }

    private void sweepQuietly() {
        try {
            uploads.expire();
            // A backlog gets a few batches a pass, never an unbounded loop.
            for (int batch = 0; batch < BATCHES_PER_PASS && sweep() == BATCH; batch++) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Redis away or a file that would not go: the next pass tries again.
            log.warn("Sweeping ended jobs failed: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
