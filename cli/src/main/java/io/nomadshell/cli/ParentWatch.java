package io.nomadshell.cli;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls back once the process that started this one has ended, so a server started by a script, a
 * supervisor or a test stops with it, even when that parent is killed with {@code kill -9}.
 *
 * <p>Polls: {@link ProcessHandle#onExit()} of a process that is not our child polls too, but backs off
 * to 5 s. A handle compares start times, so a reused pid does not pass for the parent.
 */
final class ParentWatch {
    private static final Logger log = LoggerFactory.getLogger(ParentWatch.class);
    static final Duration EVERY = Duration.ofMillis(250);

    private ParentWatch() {}

    /** The process that started this one. */
    static ProcessHandle parentNow() {
        return ProcessHandle.current().parent()
                .orElseThrow(() -> new UserError("--exit-with-parent: this process has no parent to watch"));
    }

    /** Watches {@code parent} on a daemon thread; once it has ended, {@code onEnd} runs, on that thread. */
    static void start(ProcessHandle parent, Runnable onEnd) {
        requireNonNull(parent, "parent");
        requireNonNull(onEnd, "onEnd");
        Thread.ofPlatform().daemon().name("parent-watch").start(() -> {
            while (parent.isAlive()) {
                try {
                    Thread.sleep(EVERY);
                } catch (InterruptedException e) {
                    return;
                }
            }
            log.warn("The process that started this server (pid {}) has ended: stopping (--exit-with-parent)",
                    parent.pid());
            onEnd.run();
        });
    }
}
