package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.v1.ProcessResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** One process started with {@code exec background=true}: its handle, its unread output, its stdin. */
final class BackgroundProcess {

    private static final int CHUNK_BYTES = 16 * 1024;
    private static final Duration DRAIN_WAIT = Duration.ofSeconds(2);

    private final String handle;
    private final String command;
    private final Process process;
    private final UnreadOutput output = new UnreadOutput();
    private final CountDownLatch pipesClosed = new CountDownLatch(2);

    BackgroundProcess(String handle, String command, Process process) {
        this.handle = requireNonNull(handle, "handle");
        this.command = requireNonNull(command, "command");
        this.process = requireNonNull(process, "process");
        pump(process.getInputStream());
        pump(process.getErrorStream());
        Thread.ofVirtual().name("background-" + handle + "-ended").start(() -> {
            try {
                pipesClosed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            output.end();
        });
    }

    String handle() {
        return handle;
    }

    Process process() {
        return process;
    }

    /** Its state and, when {@code withOutput}, the output not read before (waiting up to {@code wait}). */
    ProcessResult describe(boolean withOutput, Duration wait) throws InterruptedException {
        ProcessResult.Builder result = ProcessResult.newBuilder().setHandle(handle).setCommand(command);
        long deadline = System.nanoTime() + wait.toNanos();
        UnreadOutput.Read read = withOutput ? output.take(wait) : new UnreadOutput.Read("", 0);
        if (withOutput && read.text().isEmpty() && output.ended()) {
            // Its pipes are closed: nothing more will come but the exit, worth the rest of the wait.
            process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        boolean running = process.isAlive();
        if (!running && withOutput) {
            // Exited: what it wrote last may still be in the pipes; the model must get all of it
            // together with the news that it ended.
            output.awaitEnd(DRAIN_WAIT);
            UnreadOutput.Read rest = output.take(Duration.ZERO);
            read = new UnreadOutput.Read(read.text() + rest.text(), read.dropped() + rest.dropped());
        }
        result.setRunning(running);
        if (withOutput) {
            result.setOutput(read.text()).setDroppedBytes(read.dropped());
        }
        if (!running) {
            result.setExitCode(process.exitValue());
        }
        return result.build();
    }

    void write(String input, boolean close) throws ToolException {
        if (!process.isAlive()) {
            throw new ToolException("process " + handle + " has exited (code " + process.exitValue() + ")");
        }
        OutputStream stdin = process.getOutputStream();
        try {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            if (close) {
                stdin.close();
            }
        } catch (IOException e) {
            throw new ToolException("cannot write to the stdin of process " + handle
                    + " (closed, or the process stopped reading): " + e.getMessage());
        }
    }

    /** Kills it with its descendants and waits a little for it to be gone. */
    void kill(Duration wait) throws InterruptedException {
        ProcessRegistry.killTree(process.toHandle());
        process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void pump(InputStream in) {
        // A platform thread: a blocking pipe read would pin a virtual thread's carrier for as long as it waits.
        Thread.ofPlatform().daemon().name("background-" + handle + "-output").start(() -> {
            byte[] buffer = new byte[CHUNK_BYTES];
            try (in) {
                int n;
                while ((n = in.read(buffer)) != -1) {
                    output.append(buffer, n);
                }
            } catch (IOException e) {
                // The pipe went away with the process.
            } finally {
                pipesClosed.countDown();
            }
        });
    }
}
