package io.nomadshell.controlplane.agent;

import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolOutput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tool call's live output on its way to the job's event stream, coalesced: what arrives within
 * a window (or until {@link #MAX_BYTES} are waiting) becomes one {@code tool_output} event per stream,
 * so a chatty command writes a few large entries instead of one per chunk. Each stream's bytes keep
 * their order; a character split between chunks is never split between events; {@link #close()}
 * writes what is still waiting, before the call's {@code tool_finished}.
 */
final class LiveOutput implements Consumer<ToolEvent>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LiveOutput.class);
    /** Waiting output that is written at once, without waiting for the window to end. */
    static final int MAX_BYTES = 16 * 1024;

    private final JobStore store;
    private final String jobId;
    private final String callId;
    private final ScheduledExecutorService timer;
    private final Duration window;
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private @Nullable ScheduledFuture<?> due;
    private boolean closed;

    LiveOutput(JobStore store, String jobId, String callId, ScheduledExecutorService timer, Duration window) {
        this.store = store;
        this.jobId = jobId;
        this.callId = callId;
        this.timer = timer;
        this.window = window;
    }

    @Override
    public void accept(ToolEvent event) {
        if (!event.hasOutput()) {
            return;
        }
        var chunk = event.getOutput();
        lock.lock();
        try {
            if (closed) {
                return; // the call has ended for the loop: what a lingering call prints is not its output
            }
            chunk.getData().writeTo(chunk.getStream() == OutputChunk.Stream.STDERR ? stderr : stdout);
            if (window.isZero() || stdout.size() + stderr.size() >= MAX_BYTES) {
                flush(false);
            } else if (due == null) {
                try {
                    // The timer only wakes a virtual thread: a slow Redis write must not hold other calls' output.
                    due = timer.schedule(() -> Thread.ofVirtual().name("live-output-" + callId).start(this::flushDue),
                            window.toNanos(), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException stopping) {
                    flush(false); // the control plane is stopping: write it now rather than never
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("a byte array stream cannot fail", e);
        } finally {
            lock.unlock();
        }
    }

    /** Writes what is still waiting, a partial character included; later output of this call is dropped. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!closed) {
                closed = true;
                flush(true);
            }
        } finally {
            lock.unlock();
        }
    }

    private void flushDue() {
        lock.lock();
        try {
            due = null;
            if (!closed) {
                flush(false);
            }
        } catch (RuntimeException e) {
            log.warn("Live output of call {} of job {} was not stored: {}", callId, jobId, e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    /** Called with the lock held. */
    private void flush(boolean all) {
        if (due != null) {
            due.cancel(false);
            due = null;
        }
        append("stdout", stdout, all);
        append("stderr", stderr, all);
    }

    private void append(String stream, ByteArrayOutputStream buffer, boolean all) {
        var bytes = buffer.toByteArray();
        int end = all ? bytes.length : wholeCharacters(bytes);
        if (end == 0) {
            return;
        }
        buffer.reset();
        buffer.write(bytes, end, bytes.length - end);
        store.appendEvent(jobId, JobEvent.newBuilder().setToolOutput(ToolOutput.newBuilder()
                .setCallId(callId)
                .setStream(stream)
                .setText(new String(Arrays.copyOf(bytes, end), StandardCharsets.UTF_8))));
    }

    /** How many leading bytes of {@code bytes} end on a character boundary (an unfinished UTF-8 sequence waits). */
    static int wholeCharacters(byte[] bytes) {
        int n = bytes.length;
        // The last lead byte within the longest sequence (4 bytes); continuation bytes are 10xxxxxx.
        for (int i = n - 1; i >= Math.max(0, n - 4); i--) {
            int b = bytes[i] & 0xff;
            if ((b & 0xc0) == 0x80) {
                continue;
            }
            int length = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return i + length <= n ? n : i;
        }
        return n; // no lead byte near the end: not UTF-8 to wait for
    }
}
