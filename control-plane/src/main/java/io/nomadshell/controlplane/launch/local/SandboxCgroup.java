package io.nomadshell.controlplane.launch.local;

import io.nomadshell.controlplane.launch.LaunchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One sandbox's cgroup ({@code nomad-shell/<jobId>} in each controller): its limits, members and OOM kills. */
final class SandboxCgroup {
    private static final Logger log = LoggerFactory.getLogger(SandboxCgroup.class);

    static final String PARENT = "nomad-shell";
    private static final long CPU_PERIOD_US = 100_000;
    /**
     * A killed process leaves cgroup.procs before the kernel has let go of it (rmdir says EBUSY until
     * then), which on a loaded host takes seconds.
     */
    private static final int REMOVE_ATTEMPTS = 250;

    private final Dirs dirs;

    private SandboxCgroup(Dirs dirs) {
        this.dirs = dirs;
    }

    /**
     * The directories of the memory, pids and cpu controllers; one and the same on a unified (v2)
     * hierarchy.
     */
    record Dirs(Path memory, Path pids, Path cpu, boolean unified) {
        Dirs resolve(String child) {
            return new Dirs(memory.resolve(child), pids.resolve(child), cpu.resolve(child), unified);
        }

        List<Path> distinct() {
            return Stream.of(memory, pids, cpu).distinct().toList();
        }
    }

    /**
     * Creates the sandbox's group under {@code own} (this process's cgroups) and sets its limits.
     *
     * @throws LaunchException when a sandbox of the same job still runs in it
     * @throws IOException when the cgroups cannot be written
     */
    static SandboxCgroup create(Dirs own, String jobId, LocalLauncherOptions options)
            throws IOException, LaunchException {
        Dirs parent = own.resolve(PARENT);
        for (Path dir : parent.distinct()) {
            Files.createDirectories(dir);
        }
        if (own.unified()) {
            // v2 hands controllers down level by level.
            enableControllers(own.memory());
            enableControllers(parent.memory());
        }
        SandboxCgroup group = new SandboxCgroup(parent.resolve(jobId));
        for (Path dir : group.dirs.distinct()) {
            if (Files.isDirectory(dir)) {
                if (!members(dir).isEmpty()) {
                    throw new LaunchException("a sandbox for job " + jobId + " is already running");
                }
                // Left over by a control plane that died; its sandboxes died with it.
                Files.delete(dir);
            }
        }
        try {
            for (Path dir : group.dirs.distinct()) {
                Files.createDirectory(dir);
            }
            group.limit(options);
        } catch (IOException e) {
            group.remove();
            throw e;
        }
        return group;
    }

    private static void enableControllers(Path dir) throws IOException {
        Files.writeString(dir.resolve("cgroup.subtree_control"), "+memory +pids +cpu");
    }

    private void limit(LocalLauncherOptions options) throws IOException {
        long quota = Math.max(1000, Math.round(options.cpuLimit() * CPU_PERIOD_US));
        if (dirs.unified()) {
            write(dirs.memory(), "memory.max", options.memoryLimitBytes());
            write(dirs.pids(), "pids.max", options.pidsLimit());
            Files.writeString(dirs.cpu().resolve("cpu.max"), quota + " " + CPU_PERIOD_US);
        } else {
            write(dirs.memory(), "memory.limit_in_bytes", options.memoryLimitBytes());
            write(dirs.pids(), "pids.max", options.pidsLimit());
            write(dirs.cpu(), "cpu.cfs_period_us", CPU_PERIOD_US);
            write(dirs.cpu(), "cpu.cfs_quota_us", quota);
        }
    }

    private static void write(Path dir, String file, long value) throws IOException {
        Files.writeString(dir.resolve(file), Long.toString(value));
    }

    /** The {@code cgroup.procs} files a process writes its pid into to join the group. */
    List<Path> procsFiles() {
        return dirs.distinct().stream().map(d -> d.resolve("cgroup.procs")).toList();
    }

    /** The pids of every process in the group. */
    Set<Long> members() {
        Set<Long> pids = new LinkedHashSet<>();
        for (Path dir : dirs.distinct()) {
            try {
                pids.addAll(members(dir));
            } catch (IOException e) {
                log.debug("cannot read the members of {}", dir, e);
            }
        }
        return pids;
    }

    private static List<Long> members(Path dir) throws IOException {
        try {
            return Files.readAllLines(dir.resolve("cgroup.procs")).stream()
                    .filter(line -> !line.isBlank())
                    .map(Long::parseLong)
                    .toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** Whether the kernel killed a process of the group for lack of memory. */
    boolean ranOutOfMemory(int exitCode) {
        Path memory = dirs.memory();
        if (counter(memory.resolve(dirs.unified() ? "memory.events" : "memory.oom_control"), "oom_kill") > 0) {
            return true;
        }
        // Kernels before 4.13 have no oom_kill counter: hitting the limit and dying by SIGKILL is the sign.
        return !dirs.unified() && exitCode == 128 + 9 && number(memory.resolve("memory.failcnt")) > 0;
    }

    /** The value after {@code key} in a file of "key value" lines; 0 when missing. */
    private static long counter(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] parts = line.trim().split(" ");
                if (parts.length == 2 && parts[0].equals(key)) {
                    return Long.parseLong(parts[1]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            log.debug("cannot read {} from {}", key, file, e);
        }
        return 0;
    }

    /** The number a file holds; 0 when missing. */
    private static long number(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            log.debug("cannot read {}", file, e);
            return 0;
        }
    }

    /**
     * Removes the group of {@code id} that a control plane which died left behind (its sandboxes died
     * with it, their groups did not), unless a process is still in it.
     */
    static void removeLeftover(Dirs own, String id) {
        SandboxCgroup group = new SandboxCgroup(own.resolve(PARENT).resolve(id));
        if (group.dirs.distinct().stream().anyMatch(Files::isDirectory) && group.members().isEmpty()) {
            log.info("removing the cgroup of {}, left by a control plane that stopped", id);
            group.remove();
        }
    }

    /** Removes the group's directories, waiting briefly for the kernel to let go of dead members. */
    void remove() {
        for (Path dir : dirs.distinct()) {
            for (int attempt = 1; ; attempt++) {
                try {
                    Files.deleteIfExists(dir);
                    break;
                } catch (IOException e) {
                    if (attempt == REMOVE_ATTEMPTS) {
                        log.warn("cannot remove cgroup {}: {}", dir, e.getMessage());
                        break;
                    }
                    pause();
                }
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
