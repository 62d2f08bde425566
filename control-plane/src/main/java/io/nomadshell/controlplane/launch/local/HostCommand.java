package io.nomadshell.controlplane.launch.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short host command (mount, mkfs, chown) as this process, and says what went wrong when it fails. */
final class HostCommand {
    private static final long TIMEOUT_SECONDS = 60;

    private HostCommand() {}

    /**
     * Runs {@code argv}, throwing with its output unless it exits 0 within a minute. An interrupt (a
     * cancel, a stop) does not cut it short: a {@code mount} killed midway may still have mounted, and
     * an {@code umount} run to release it would itself be cut short. The command runs to its end, and
     * the thread keeps its interrupt for the caller's next wait.
     */
    static void run(String... argv) throws IOException {
        Process process = new ProcessBuilder(List.of(argv))
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8).strip();
        if (!awaitExit(process)) {
            process.destroyForcibly();
            throw new IOException(argv[0] + " did not finish within " + TIMEOUT_SECONDS + " s");
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed (" + process.exitValue() + ")"
                    + (output.isEmpty() ? "" : ": " + output));
        }
    }

    private static boolean awaitExit(Process process) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
