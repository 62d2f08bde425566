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
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
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

    /** A watched job's window of events, shared by its watchers. */
    private static final class Feed {
        final String jobId;
        /** Guarded by the map's compute. */
        int watchers;
        volatile boolean stopped;
        volatile CompletableFuture<Void> wakeUp = new CompletableFuture<>();
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        /** Events {@code floor+1 .. position}, at index {@code sequence % WINDOW_EVENTS}. */
        private final JobEvent[] ring = new JobEvent[WINDOW_EVENTS];
        private long floor;
        private long position;
        private long bytes;
        private boolean ended;
        private @Nullable RuntimeException failure;

        Feed(String jobId) {
            this.jobId = jobId;
        }

        long position() {
            lock.lock();
            try {
                return position;
            } finally {
                lock.unlock();
            }
        }

        boolean failed() {
            lock.lock();
            try {
                return failure != null;
            } finally {
                lock.unlock();
            }
        }

        void append(List<JobEvent> events) {
            lock.lock();
            try {
                for (var event : events) {
                    long sequence = event.getSequence();
                    if (sequence <= position) {
                        continue;
                    }
                    if (sequence != position + 1) {
                        // A gap (the stream's oldest entries were trimmed): the window starts afresh.
                        clear();
                        floor = sequence - 1;
                    }
                    ring[index(sequence)] = event;
                    position = sequence;
                    bytes += event.getSerializedSize();
                    while (position - floor > WINDOW_EVENTS || (bytes > WINDOW_BYTES && position - floor > 1)) {
                        evictOldest();
                    }
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void end(@Nullable RuntimeException failure) {
            lock.lock();
            try {
                ended = true;
                this.failure = failure;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
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
            lock.lock();
            try {
                if (failure != null) {
                    throw new IllegalStateException("reading the job's events failed: " + failure.getMessage(), failure);
                }
                if (last < floor) {
                    return new Batch(List.of(), true, floor);
                }
                if (last >= position) {
                    if (ended) {
                        return null;
                    }
                    changed.await(POLL.toMillis(), TimeUnit.MILLISECONDS);
                    if (last < floor) {
                        return new Batch(List.of(), true, floor);
                    }
                }
                var events = new ArrayList<JobEvent>((int) Math.min(BATCH, Math.max(0, position - last)));
                for (long sequence = last + 1; sequence <= position && events.size() < BATCH; sequence++) {
                    events.add(ring[index(sequence)]);
                }
                return new Batch(events, false, floor);
            } finally {
                lock.unlock();
            }
        }

        private void evictOldest() {
            floor++;
            int at = index(floor);
            var oldest = ring[at];
            if (oldest != null) {
                bytes -= oldest.getSerializedSize();
                ring[at] = null;
            }
        }

        private void clear() {
            while (floor < position) {
                evictOldest();
            }
        }

        private static int index(long sequence) {
            return (int) (sequence % WINDOW_EVENTS);
        }
    }
}
