package io.nomadshell.scriptedmodel;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Tells waiting requests (delays, stalls) that the server is closing, so none outlives it. */
final class Shutdown {

    private final CountDownLatch closing = new CountDownLatch(1);

    void begin() {
        closing.countDown();
    }

    /**
     * Waits {@code duration}, or less if the server closes.
     *
     * @throws InterruptedException if the server closes meanwhile, or the thread is interrupted
     */
    void pause(Duration duration) throws InterruptedException {
        if (closing.await(duration.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new InterruptedException("the scripted model is closing");
        }
    }
}
