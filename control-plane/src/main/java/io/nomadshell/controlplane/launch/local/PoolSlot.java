package io.nomadshell.controlplane.launch.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A warm-pool sandbox's workspace on the host: an empty directory of its own beside the jobs'
 * workspaces ({@code <workspaces>/<member id>}, its own disk mounted on it when the host has loop
 * devices), bound at {@code /workspace} in the sandbox from its start.
 *
 * <p>A claim bind-mounts it onto the job's (empty) workspace directory, so the job's host path holds
 * what the agent writes, as for a sandbox launched for the job. When the sandbox is closed (its disk
 * unmounted before), the bind goes and the slot directory is renamed onto the job's workspace: what a
 * resumed job or a partial zip needs is then where a cold launch would have left it. A marker file
 * beside the slot ({@value #MARKER}) names the job's workspace once claimed, so that what a control
 * plane killed with {@code -9} left is put in place by the next start ({@link #reclaim}).
 */
final class PoolSlot implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PoolSlot.class);
    static final String MARKER = ".pool-slot";

    private final Path dir;
    private final Path marker;
    private volatile @Nullable Path claimedBy;

    private PoolSlot(Path dir) {
        this.dir = dir;
        this.marker = dir.resolveSibling(dir.getFileName() + MARKER);
    }

    /** A new empty slot {@code workspaces/memberId}. */
    static PoolSlot create(Path workspaces, String memberId) throws IOException {
        PoolSlot slot = new PoolSlot(workspaces.resolve(memberId));
        Files.writeString(slot.marker, "");
        try {
            Files.createDirectory(slot.dir);
        } catch (IOException e) {
            Files.deleteIfExists(slot.marker);
            throw e;
        }
        return slot;
    }

    Path dir() {
        return dir;
    }

    /** Binds the slot onto {@code jobWorkspace}, an empty directory, after recording the claim. */
    void claim(Path jobWorkspace) throws IOException {
        try (Stream<Path> entries = Files.list(jobWorkspace)) {
            if (entries.findAny().isPresent()) {
                throw new IOException("the job's workspace is not empty");
            }
        }
        Files.writeString(marker, jobWorkspace.toString(), UTF_8);
        HostCommand.run("mount", "--bind", dir.toString(), jobWorkspace.toString());
        claimedBy = jobWorkspace;
    }

    /** Leaves the files with the claiming job, or removes an unclaimed slot; never throws. */
    @Override
    public void close() {
        finish(dir, marker, claimedBy);
    }

    /** Puts in place what the slots of a control plane that died left in {@code workspaces}. */
    static void reclaim(Path workspaces) {
        try (DirectoryStream<Path> markers = Files.newDirectoryStream(workspaces, "*" + MARKER)) {
            for (Path marker : markers) {
                String name = marker.getFileName().toString();
                Path dir = workspaces.resolve(name.substring(0, name.length() - MARKER.length()));
                String claimed = Files.readString(marker, UTF_8).strip();
                log.info("reclaiming the warm-pool workspace {} ({})", dir, claimed.isEmpty() ? "unclaimed" : claimed);
                unmountQuietly(dir);
                finish(dir, marker, claimed.isEmpty() ? null : Path.of(claimed));
            }
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot reclaim the warm-pool workspaces in {}: {}", workspaces, e.getMessage());
        }
    }

    private static void finish(Path dir, Path marker, @Nullable Path jobWorkspace) {
        try {
            if (jobWorkspace != null) {
                unmountQuietly(jobWorkspace);
                if (isMountPoint(jobWorkspace)) {
                    HostCommand.run("umount", "-l", jobWorkspace.toString());
                }
                Files.move(dir, jobWorkspace, StandardCopyOption.ATOMIC_MOVE);
            } else {
                deleteRecursively(dir);
            }
            Files.deleteIfExists(marker);
        } catch (IOException | UncheckedIOException e) {
            log.warn("cannot release the warm-pool workspace {}: {}", dir, e.getMessage());
        }
    }

    private static void unmountQuietly(Path point) {
        try {
            HostCommand.run("umount", point.toString());
        } catch (IOException notMounted) {
            log.debug("{} was not unmounted: {}", point, notMounted.getMessage());
        }
    }

    private static boolean isMountPoint(Path path) throws IOException {
        String point = " " + path + " ";
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
            return lines.anyMatch(line -> line.contains(point));
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
