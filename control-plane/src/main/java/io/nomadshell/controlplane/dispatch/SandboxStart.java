package io.nomadshell.controlplane.dispatch;

import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.session.DaemonWait;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * A job's sandbox from its launch until its daemon has attached and the job runs. The daemon is
 * awaited on a thread of its own, which moves the job to running once it has attached, so the agent
 * loop asks the model its first question meanwhile (a daemon's JVM takes most of a second to start,
 * a model's answer as long or longer); the first step that needs the sandbox waits in {@link #ready()}.
 */
final class SandboxStart implements AutoCloseable {
    private final CompletableFuture<Void> running = new CompletableFuture<>();
    private final Thread waiter;

    private SandboxStart(String jobId, Sandbox sandbox, SessionRegistry sessions, Duration timeout,
            Runnable settled, BooleanSupplier toRunning) {
        this.waiter = Thread.ofVirtual().name("daemon-wait-" + jobId).unstarted(() -> {
            try {
                DaemonWait.await(jobId, sandbox::exitReason, sessions, timeout);
            } catch (SandboxLostException | InterruptedException | RuntimeException e) {
                settled.run();
                running.completeExceptionally(e);
                return;
            }
            settled.run();
            try {
                if (toRunning.getAsBoolean()) {
                    running.complete(null);
                } else {
                    // Cancelled while starting: the cancel interrupts the job's thread too.
                    running.completeExceptionally(new InterruptedException("the job ended before it ran"));
                }
            } catch (RuntimeException e) {
                running.completeExceptionally(e);
            }
        });
    }

    /**
     * Starts waiting for the daemon of {@code sandbox}, at most {@code timeout}.
     *
     * @param settled run once the daemon has attached or will not (the sandbox ended, or the time is
     *     up), once
     * @param toRunning moves the job to running; false when it has ended meanwhile (cancelled)
     */
    static SandboxStart await(String jobId, Sandbox sandbox, SessionRegistry sessions, Duration timeout,
            Runnable settled, BooleanSupplier toRunning) {
        var start = new SandboxStart(jobId, sandbox, sessions, timeout, settled, toRunning);
        start.waiter.start();
        return start;
    }

    /** Waits until the daemon has attached and the job runs. */
    void ready() throws SandboxLostException, InterruptedException {
        try {
            running.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case SandboxLostException lost -> throw lost;
                case InterruptedException stopped -> throw stopped;
                case RuntimeException failed -> throw failed;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
    }

    /** Stops waiting (the job has ended); returns once the waiting thread has. */
    @Override
    public void close() {
        waiter.interrupt();
        try {
            waiter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
