package io.nomadshell.controlplane.launch.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.nomadshell.controlplane.launch.Sandbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running bubblewrap sandbox: its process, cgroup, log and what it holds on the host (uid, workspace mount, files). */
final class LocalSandbox implements Sandbox {
    private static final Logger log = LoggerFactory.getLogger(LocalSandbox.class);

    static final String STOPPED = "the sandbox was stopped";
    private static final int KILL_ATTEMPTS = 100;
    private static final long PAUSE_MILLIS = 20;
    private static final Duration EXIT_WAIT = Duration.ofSeconds(5);
    /** For bwrap to reap its pid 1 and exit by itself, before it is killed too. */
    private static final Duration OWN_EXIT_WAIT = Duration.ofSeconds(2);
    private static final int LOG_TAIL_LINES = 5;
    private static final int LOG_TAIL_BYTES = 4096;

    private final String jobId;
    private final Process process;
    private final @Nullable SandboxCgroup cgroup;
    private final List<AutoCloseable> held;
    private final Path logFile;
    private final Path workspace;
    private final long memoryLimitBytes;
    private final AtomicReference<@Nullable String> exitReason = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Completes once the first close has released everything: a second close waits for it. */
    private final CompletableFuture<Void> released = new CompletableFuture<>();
    private final Thread watcher;

    private LocalSandbox(
            String jobId,
            Process process,
            @Nullable SandboxCgroup cgroup,
            List<AutoCloseable> held,
            Path logFile,
            Path workspace,
            long memoryLimitBytes) {
        this.jobId = jobId;
        this.process = process;
        this.cgroup = cgroup;
        this.held = List.copyOf(held);
        this.logFile = logFile;
        this.workspace = workspace;
        this.memoryLimitBytes = memoryLimitBytes;
        this.watcher = Thread.ofVirtual().name("sandbox-watch-" + jobId).unstarted(this::awaitExit);
    }

    /**
     * Takes ownership of a started sandbox process and watches it end.
     *
     * @param held what the sandbox holds on the host, released in this order once its last process has ended
     */
    static LocalSandbox watch(
            String jobId,
            Process process,
            @Nullable SandboxCgroup cgroup,
            List<AutoCloseable> held,
            Path logFile,
            Path workspace,
            long memoryLimitBytes) {
        LocalSandbox sandbox = new LocalSandbox(jobId, process, cgroup, held, logFile, workspace, memoryLimitBytes);
        sandbox.watcher.start();
        return sandbox;
    }

    @Override
    public String jobId() {
        return jobId;
    }

    @Override
    public Optional<String> exitReason() {
        return Optional.ofNullable(exitReason.get());
    }

    /** The workspace directory (its disk mounted on it until {@link #close()}). */
    @Override
    public Optional<Path> workspaceOnHost() {
        return closed.get() ? Optional.empty() : Optional.of(workspace);
    }

    /** The proportional set size of the sandbox's processes now, from /proc (0 once they are gone). */
    long pssBytes() {
        return Stream.concat(Stream.of(process.toHandle()), process.descendants())
                .mapToLong(LocalSandbox::pssBytes)
                .sum();
    }

    private static long pssBytes(ProcessHandle handle) {
        try (Stream<String> lines = Files.lines(Path.of("/proc", Long.toString(handle.pid()), "smaps_rollup"))) {
            return lines.filter(line -> line.startsWith("Pss:"))
                    .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024)
                    .findFirst()
                    .orElse(0);
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            return 0; // gone meanwhile
        }
    }

    private void awaitExit() {
        int code = process.onExit().join().exitValue();
        String reason = closed.get() ? STOPPED : describeExit(code);
        if (exitReason.compareAndSet(null, reason)) {
            log.info("the sandbox of job {} ended: {}", jobId, reason);
        }
    }

    private String describeExit(int code) {
        if (cgroup != null && cgroup.ranOutOfMemory(code)) {
            return "the sandbox ran out of memory (limit " + size(memoryLimitBytes) + ")";
        }
        String tail = logTail();
        return "the sandbox exited with code " + code + (tail.isEmpty() ? "" : ": " + tail);
    }

    private static String size(long bytes) {
        long mib = 1L << 20;
        return bytes % (1024 * mib) == 0 ? bytes / (1024 * mib) + " GiB" : bytes / mib + " MiB";
    }

    /** The last few non-blank lines of the log, read from its end since logs grow long. */
    private String logTail() {
        try (SeekableByteChannel channel = Files.newByteChannel(logFile)) {
            long start = Math.max(0, channel.size() - LOG_TAIL_BYTES);
            ByteBuffer buffer = ByteBuffer.allocate((int) (channel.size() - start));
            channel.position(start);
            while (buffer.hasRemaining() && channel.read(buffer) > 0) {
                // until the buffer is full or the file ends
            }
            List<String> lines = new String(buffer.array(), 0, buffer.position(), UTF_8)
                    .lines()
                    .skip(start > 0 ? 1 : 0) // cut in the middle
                    .filter(line -> !line.isBlank())
                    .toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Kills every process of the sandbox, then removes its cgroup and releases what it holds (the
     * workspace mount among them), the release even when the kill went wrong. Every caller, the first
     * and any other (the launcher's at server stop), returns once that is done.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // On a thread of its own: the job's thread is interrupted when it is cancelled or the server
            // stops, maybe in the middle of this, and no wait below (for the kill, for umount) may be cut short.
            Thread.ofVirtual().name("sandbox-close-" + jobId).start(this::tearDown);
        }
        released.join(); // uninterruptible; the caller keeps its interrupt
    }

    private void tearDown() {
        try {
            // Its pid 1 (bwrap's child) first: the kernel then kills its whole pid namespace, and bwrap,
            // our child, reaps that pid 1 and exits. Killed together, that pid 1 would be orphaned to the
            // host's init, a zombie that keeps the cgroup busy until init gets round to it.
            List<ProcessHandle> tree = Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList();
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            awaitExit(process.toHandle(), OWN_EXIT_WAIT);
            process.destroyForcibly();
            if (cgroup != null) {
                killMembers(cgroup);
            }
            awaitEnd(tree);
            exitReason.compareAndSet(null, STOPPED);
            if (cgroup != null) {
                cgroup.remove();
            }
        } catch (RuntimeException e) {
            log.warn("killing the sandbox of job {} failed", jobId, e);
        } finally {
            release(jobId, held);
            released.complete(null);
        }
        log.info("closed the sandbox of job {}", jobId);
    }

    /** Waits up to {@code wait} for a process to end; false when it has not. */
    private static boolean awaitExit(ProcessHandle process, Duration wait) {
        Instant deadline = Instant.now().plus(wait);
        while (!ended(process)) {
            if (Instant.now().isAfter(deadline) || !pause()) {
                return false;
            }
        }
        return true;
    }

    /** Releases each of {@code held} in order; never throws. */
    static void release(String jobId, List<AutoCloseable> held) {
        for (AutoCloseable part : held) {
            try {
                part.close();
            } catch (Exception e) {
                log.warn("releasing part of the sandbox of job {} failed: {}", jobId, e.toString());
            }
        }
    }

    /** Kills what the cgroup holds until it is empty: also what left the process tree or forked meanwhile. */
    private void killMembers(SandboxCgroup cgroup) {
        for (int attempt = 0; attempt < KILL_ATTEMPTS; attempt++) {
            Set<Long> members = cgroup.members();
            if (members.isEmpty()) {
                return;
            }
            members.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            if (!pause()) {
                return;
            }
        }
        log.warn("processes of the sandbox of job {} survive SIGKILL: {}", jobId, cgroup.members());
    }

    private void awaitEnd(List<ProcessHandle> tree) {
        Instant deadline = Instant.now().plus(EXIT_WAIT);
        while (!tree.stream().allMatch(LocalSandbox::ended)) {
            if (Instant.now().isAfter(deadline) || !pause()) {
                log.warn("the sandbox of job {} did not end within {}", jobId, EXIT_WAIT);
                return;
            }
        }
        try {
            // The watcher may be reading the cgroup's OOM counters: let it finish before the cgroup goes.
            watcher.join(EXIT_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether a process has ended. A zombie has: the sandbox's orphaned pid 1 waits for the host's
     * init to reap it, which may take seconds.
     */
    private static boolean ended(ProcessHandle process) {
        if (!process.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
        } catch (IOException | IndexOutOfBoundsException e) {
            return true; // gone meanwhile
        }
    }

    /** Sleeps a moment; false when interrupted. */
    private static boolean pause() {
        try {
            Thread.sleep(PAUSE_MILLIS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
