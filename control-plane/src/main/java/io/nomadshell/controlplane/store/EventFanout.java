package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.v1.JobEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watchers of one job share one reader of its events: a virtual thread per watched job reads the
 * job's Redis stream into a bounded window (the newest {@link #WINDOW_EVENTS} events, at most
 * {@link #WINDOW_BYTES}), and each watcher takes from that window at its own pace. A thousand
 * watchers cost Redis what one does, and none of them can hold up the job: the reader never waits
 * for a watcher. A watcher that falls behind the window reads the events it missed from Redis
 * itself, at its own pace, until it is back in the window.
 *
 * <p>The reader starts when a job's first watcher comes and stops when its last one leaves, or once
 * the job has ended (and its zip is no longer coming) and every event was read.
 */
public final class EventFanout {
    private static final Logger log = LoggerFactory.getLogger(EventFanout.class);
    static final int WINDOW_EVENTS = 1024;
    static final long WINDOW_BYTES = 4L * 1024 * 1024;
    private static final int BATCH = 500;
    /** Pub/sub is a hint, Redis is the truth: the reader looks again at least this often. */
    private static final Duration POLL = Duration.ofSeconds(1);

    private final JobStore store;
    private final ConcurrentHashMap<String, Feed> feeds = new ConcurrentHashMap<>();

    public EventFanout(JobStore store, JobSignals signals) {
        this.store = requireNonNull(store, "store");
        requireNonNull(signals, "signals").onEvent(jobId -> {
            var feed = feeds.get(jobId);
            if (feed != null) {
                feed.wakeUp.complete(null);
            }
        });
    }

    /**
     * Sends the job's events after {@code afterSequence} to {@code sink}, in order and each once, then
     * new ones as they come, until the job has ended and every event was sent, or {@code stopped}
     * says the watcher left. Runs on the caller's thread: a sink that blocks slows only its watcher.
     */
    public void watch(String jobId, long afterSequence, Consumer<JobEvent> sink, BooleanSupplier stopped)
            throws InterruptedException {
        requireNonNull(jobId, "jobId");
        requireNonNull(sink, "sink");
        requireNonNull(stopped, "stopped");
        var feed = join(jobId);
        try {
            long last = afterSequence;
            while (!stopped.getAsBoolean()) {
                var batch = feed.after(last);
                if (batch == null) {
                    return; // the job has ended and every event was sent
                }
                var events = batch.events();
                if (batch.behind()) {
                    events = store.eventsAfter(jobId, last, BATCH);
                    if (events.isEmpty()) {
                        // What it missed is gone from Redis (trimmed, or expired): go on from the window.
                        last = batch.floor();
                        continue;
                    }
                }
                for (var event : events) {
                    if (stopped.getAsBoolean()) {
                        return;
                    }
                    sink.accept(event);
                    last = event.getSequence();
                }
            }
        } finally {
            leave(feed);
        }
    }

    /** Jobs being watched right now (one reader each). */
    public int watchedJobs() {
        return feeds.size();
    }

    private Feed join(String jobId) {
        return feeds.compute(jobId, (id, feed) -> {
            // A feed whose reader failed is replaced: the next watcher tries Redis afresh.
            if (feed == null || feed.failed()) {
                feed = new Feed(id);
                var started = feed;
                Thread.ofVirtual().name("events-" + id).start(() -> read(started));
            }
            feed.watchers++;
            return feed;
        });
    }

    private void leave(Feed feed) {
        feeds.computeIfPresent(feed.jobId, (id, current) -> {
            if (current != feed) {
                return current;
            }
            if (--feed.watchers > 0) {
                return feed;
            }
            feed.stop();
            return null;
        });
    }

    /** The one reader of a watched job. */
    private void read(Feed feed) {
        try {
            while (!feed.stopped) {
                var wakeUp = new CompletableFuture<Void>();
                feed.wakeUp = wakeUp;
                var events = store.eventsAfter(feed.jobId, feed.position(), BATCH);
                if (!events.isEmpty()) {
                    feed.append(events);
                    continue;
                }
                if (jobOver(feed)) {
                    feed.end(null);
                    return;
                }
                try {
                    wakeUp.get(POLL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException quiet) {
                    // Look again.
                }
            }
        } catch (InterruptedException e) {
            feed.end(new IllegalStateException("the server is shutting down"));
        } catch (RuntimeException e) {
            log.warn("Reading the events of job {} failed: {}", feed.jobId, e.toString());
            feed.end(e);
        }
    }

    /** Ended, its zip no longer coming, and nothing after what was read: no event will come. */
    private boolean jobOver(Feed feed) {
        return store.find(feed.jobId).map(job -> job.status().isTerminal() && !job.artifactComing(Instant.now()))
                .orElse(true)
                && store.eventsAfter(feed.jobId, feed.position(), 1).isEmpty();
    }

    /**
     * What a watcher takes: events after its last, or, when it is {@code behind} the window, a hint
     * to read Redis itself; {@code floor} is where the window starts.
     */
    private record Batch(List<JobEvent> events, boolean behind, long floor) {}

    /**
     * A watched job's window of events, shared by its watchers. Only the reader writes it; watchers
     * read it without a lock (an event is in its slot before {@code position} says so, and a slot
     * that no longer holds the sequence asked for means the watcher fell behind) and wait for the
     * next append on a future that each append completes, so a new event wakes a thousand watchers
     * without a thousand of them queueing for a lock.
     */
    private static final class Feed {
        final String jobId;
        /** Guarded by the map's compute. */
        int watchers;
        volatile boolean stopped;
        volatile CompletableFuture<Void> wakeUp = new CompletableFuture<>();
        /** Events {@code floor+1 .. position}, at index {@code sequence % WINDOW_EVENTS}. */
        private final AtomicReferenceArray<JobEvent> ring = new AtomicReferenceArray<>(WINDOW_EVENTS);
        private volatile long floor;
        private volatile long position;
        private volatile CompletableFuture<Void> appended = new CompletableFuture<>();
        private volatile boolean ended;
        private volatile @Nullable RuntimeException failure;
        /** The reader's own count of the window's bytes. */
        private long bytes;

        Feed(String jobId) {
            this.jobId = jobId;
        }

        long position() {
            return position;
        }

        boolean failed() {
            return failure != null;
        }

        /** Called by the reader only. */
        void append(List<JobEvent> events) {
            for (var event : events) {
                long sequence = event.getSequence();
                if (sequence <= position) {
                    continue;
                }
                if (sequence != position + 1) {
                    // A gap (the stream's oldest entries were trimmed): the window starts afresh.
                    while (floor < position) {
                        evictOldest();
                    }
                    floor = sequence - 1;
                }
                while (sequence - floor > WINDOW_EVENTS || (bytes > WINDOW_BYTES && position > floor)) {
                    evictOldest();
                }
                ring.set(index(sequence), event);
                bytes += event.getSerializedSize();
                position = sequence;
            }
            announce();
        }

        void end(@Nullable RuntimeException failure) {
            this.failure = failure;
            ended = true;
            announce();
        }

        void stop() {
            stopped = true;
            wakeUp.complete(null);
        }

        /**
         * The window's events after {@code last} (up to a batch), waiting a while for one; a batch
         * that says {@code behind} when {@code last} is older than the window; null once the job has
         * ended and {@code last} is its last event.
         */
        @Nullable Batch after(long last) throws InterruptedException {
            // Read in this order: the reader sets position before it says ended, and appends before
            // it completes the future a watcher waits on.
            boolean over = ended;
            var next = appended;
            if (last >= position) {
                if (over) {
                    throwIfFailed();
                    return null;
                }
                try {
                    next.get(POLL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException quiet) {
                    // Nothing new: the caller looks again.
                }
            }
            throwIfFailed();
            long end = Math.min(position, last + BATCH);
            var events = new ArrayList<JobEvent>((int) Math.max(0, end - last));
            for (long sequence = last + 1; sequence <= end; sequence++) {
                var event = ring.get(index(sequence));
                if (event == null || event.getSequence() != sequence) {
                    break; // evicted under us
                }
                events.add(event);
            }
            return new Batch(events, events.isEmpty() && last < floor, floor);
        }

        private void throwIfFailed() {
            var failed = failure;
            if (failed != null) {
                throw new IllegalStateException("reading the job's events failed: " + failed.getMessage(), failed);
            }
        }

        private void announce() {
            var previous = appended;
            appended = new CompletableFuture<>();
            previous.complete(null);
        }

        private void evictOldest() {
            long oldest = floor + 1;
            var event = ring.getAndSet(index(oldest), null);
            if (event != null) {
                bytes -= event.getSerializedSize();
            }
            floor = oldest;
        }

        private static int index(long sequence) {
            return (int) (sequence % WINDOW_EVENTS);
        }
    }
}
