package io.nomadshell.controlplane.spawn;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Starts the child processes that must die with this JVM (sandboxes, the embedded Redis), which ask
 * the kernel for it with PR_SET_PDEATHSIG (bwrap's {@code --die-with-parent}, {@code setpriv
 * --pdeathsig}). That signal fires when the <em>thread</em> that forked the child ends, not the JVM:
 * every such child is started from one platform thread that never ends.
 */
public final class ParentBoundSpawner {
    private static final ExecutorService THREAD = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), Thread.ofPlatform().daemon().name("nomad-shell-spawner").factory());

    private ParentBoundSpawner() {}

    /**
     * Starts {@code builder}'s command under {@code setpriv --pdeathsig KILL} on the spawner thread: the
     * kernel kills it when this JVM dies, even by {@code kill -9}. For children that cannot ask for it
     * themselves (redis-server, test fixtures' servers); a JVM child rather takes a flag to stop cleanly.
     *
     * @param what the child, for the messages when it cannot be started
     */
    public static Process startKilledWithParent(ProcessBuilder builder, String what) throws IOException {
        requireNonNull(builder, "builder");
        var command = new ArrayList<>(List.of(setpriv().toString(), "--pdeathsig", "KILL", "--"));
        command.addAll(builder.command());
        builder.command(command);
        return start(builder::start, what);
    }

    private static Path setpriv() throws IOException {
        for (var dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "setpriv"))) {
                return Path.of(dir, "setpriv");
            }
        }
        throw new IOException("setpriv was not found on PATH: install util-linux (it makes children die with this process)");
    }

    /**
     * Runs {@code start} (which forks the child and may hand it its first input) on the spawner
     * thread and returns its process. An interrupted caller still waits: starting takes
     * milliseconds, and giving up would leave a child nobody owns; the interrupt is kept.
     *
     * @param what the child, for the message when starting fails other than with an IOException
     */
    public static Process start(Callable<Process> start, String what) throws IOException {
        requireNonNull(start, "start");
        requireNonNull(what, "what");
        Future<Process> started = THREAD.submit(start);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return started.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("starting " + what + " failed", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
