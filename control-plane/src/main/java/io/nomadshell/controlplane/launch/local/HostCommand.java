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

    /** Runs {@code argv}, throwing with its output unless it exits 0 within a minute. */
    static void run(String... argv) throws IOException {
        Process process = new ProcessBuilder(List.of(argv))
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String output;
        try {
            output = new String(process.getInputStream().readAllBytes(), UTF_8).strip();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(argv[0] + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(argv[0] + " was interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", argv) + " failed (" + process.exitValue() + ")"
                    + (output.isEmpty() ? "" : ": " + output));
        }
    }
}
