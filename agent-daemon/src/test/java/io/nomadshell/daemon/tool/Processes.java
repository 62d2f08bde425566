package io.nomadshell.daemon.tool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finds live processes by a marker in their command line, by scanning /proc. */
public final class Processes {

    private Processes() {}

    /** The pids whose command line contains {@code marker} (zombies have none, so never match). */
    public static List<Long> withMarker(String marker) {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.contains(marker)) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException e) {
                    // Exited while we looked.
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot scan /proc", e);
        }
        return found;
    }

    /** Waits up to {@code timeout} for every process with {@code marker} to be gone; returns survivors. */
    public static List<Long> awaitGone(String marker, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Long> survivors = withMarker(marker);
        while (!survivors.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            survivors = withMarker(marker);
        }
        return survivors;
    }

    /** Waits up to {@code timeout} for a process with {@code marker} to appear. */
    public static boolean awaitPresent(String marker, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!withMarker(marker).isEmpty()) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** A unique argument for {@code sleep}: 300 seconds plus a random fraction nobody else uses. */
    public static String uniqueSleepSeconds() {
        return "300." + (100_000_000L + (long) (Math.random() * 800_000_000L));
    }
}
