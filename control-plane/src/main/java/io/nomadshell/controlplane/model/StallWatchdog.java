package io.nomadshell.controlplane.model;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Ends streamed calls that stall: a call that gets no chunk for the idle timeout, or whose job's
 * thread was interrupted (cancelled), has its stream closed, which ends the blocked read at once.
 * One thread checks every call a few times a second.
 */
final class StallWatchdog implements AutoCloseable {
    private static final long CHECK_MILLIS = 200;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        var thread = new Thread(runnable, "model-stall-watchdog");
        thread.setDaemon(true);
        return thread;
    });
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();

    StallWatchdog() {
        timer.scheduleWithFixedDelay(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Watches the calling thread's call until {@link Watch#close()}; {@code onStall} ends it. */
    Watch watch(Duration idleTimeout, Runnable onStall) {
        var watch = new Watch(Thread.currentThread(), idleTimeout.toNanos(), onStall);
        watches.add(watch);
        return watch;
    }

    private void check() {
        long now = System.nanoTime();
        for (var watch : watches) {
            watch.check(now);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    /** Why a watched call was ended, if it was. */
    enum Ending { NONE, IDLE, INTERRUPTED }

    final class Watch implements AutoCloseable {
        private final Thread caller;
        private final long idleNanos;
        private final Runnable onStall;
        private volatile long lastProgress = System.nanoTime();
        private volatile Ending ending = Ending.NONE;

        private Watch(Thread caller, long idleNanos, Runnable onStall) {
            this.caller = caller;
            this.idleNanos = idleNanos;
            this.onStall = onStall;
        }

        /** A chunk arrived. */
        void progress() {
            lastProgress = System.nanoTime();
        }

        Ending ending() {
            return ending;
        }

        private void check(long now) {
            if (ending != Ending.NONE) {
                return;
            }
            if (caller.isInterrupted()) {
                end(Ending.INTERRUPTED);
            } else if (now - lastProgress > idleNanos) {
                end(Ending.IDLE);
            }
        }

        private void end(Ending why) {
            ending = why;
            watches.remove(this);
            onStall.run();
        }

        @Override
        public void close() {
            watches.remove(this);
        }
    }
}
