package io.nomadshell.controlplane.launch.local;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.MILLISECONDS;

import io.nomadshell.controlplane.launch.Sandbox;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running bubblewrap sandbox: its process, cgroup, generated files and log. */
final class LocalSandbox implements Sandbox {
    private static final Logger log = LoggerFactory.getLogger(LocalSandbox.class);

    static final String STOPPED = "the sandbox was stopped";
    private static final int KILL_ATTEMPTS = 100;
    private static final long KILL_PAUSE_MILLIS = 20;
    private static final Duration EXIT_WAIT = Duration.ofSeconds(5);
    private static final int LOG_TAIL_LINES = 5;
    private static final int LOG_TAIL_BYTES = 4096;

    private final String jobId;
    private final Process process;
    private final @Nullable SandboxCgroup cgroup;
    private final SandboxEtc etc;
    private final Path logFile;
    private final long memoryLimitBytes;
    private final AtomicReference<@Nullable String> exitReason = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread watcher;

    private LocalSandbox(
            String jobId,
            Process process,
            @Nullable SandboxCgroup cgroup,
            SandboxEtc etc,
            Path logFile,
            long memoryLimitBytes) {
        this.jobId = jobId;
        this.process = process;
        this.cgroup = cgroup;
        this.etc = etc;
        this.logFile = logFile;
        this.memoryLimitBytes = memoryLimitBytes;
        this.watcher = Thread.ofVirtual().name("sandbox-watch-" + jobId).unstarted(this::watch);
    }

    /** Takes ownership of a started sandbox process and watches it end. */
    static LocalSandbox watch(
            String jobId,
            Process process,
            @Nullable SandboxCgroup cgroup,
            SandboxEtc etc,
            Path logFile,
            long memoryLimitBytes) {
        LocalSandbox sandbox = new LocalSandbox(jobId, process, cgroup, etc, logFile, memoryLimitBytes);
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

    private void watch() {
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

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            killAll();
            awaitEnd();
            exitReason.compareAndSet(null, STOPPED);
            if (cgroup != null) {
                cgroup.remove();
            }
            etc.delete();
            log.info("closed the sandbox of job {}", jobId);
        } catch (RuntimeException e) {
            log.warn("closing the sandbox of job {} failed", jobId, e);
        }
    }

    private void killAll() {
        // Killing the sandbox's pid 1 (bwrap's child) makes the kernel kill its whole pid namespace.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        if (cgroup == null) {
            return;
        }
        // The cgroup also holds what left the process tree, and anything forked meanwhile.
        for (int attempt = 0; attempt < KILL_ATTEMPTS; attempt++) {
            Set<Long> members = cgroup.members();
            if (members.isEmpty()) {
                return;
            }
            members.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            try {
                Thread.sleep(KILL_PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        log.warn("processes of the sandbox of job {} survive SIGKILL: {}", jobId, cgroup.members());
    }

    private void awaitEnd() {
        try {
            process.onExit().get(EXIT_WAIT.toMillis(), MILLISECONDS);
            // The watcher may be reading the cgroup's OOM counters: let it finish before the cgroup goes.
            watcher.join(EXIT_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("the sandbox of job {} did not end within {}", jobId, EXIT_WAIT);
        }
    }
}
