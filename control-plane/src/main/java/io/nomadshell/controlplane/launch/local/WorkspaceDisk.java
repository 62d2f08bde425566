package io.nomadshell.controlplane.launch.local;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's workspace as a file system of its own, so a sandbox cannot fill the host's disk: a sparse
 * ext4 image of the job's disk size, loop-mounted {@code nosuid,nodev} on the workspace directory
 * while the sandbox runs. Writing past it gives the sandbox ENOSPC, and the host loses at most the
 * image's size.
 *
 * <p>The image lives inside the workspace directory ({@value #IMAGE}), hidden under the mount: it
 * stays with the job's workspace when a control plane stops (the next one mounts it again and
 * resumes), and goes when the job's workspace is removed. The control plane, as root, reads the
 * mounted workspace as before.
 */
final class WorkspaceDisk implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkspaceDisk.class);

    static final String IMAGE = ".nomad-shell-disk.img";

    private final Path workspace;

    private WorkspaceDisk(Path workspace) {
        this.workspace = workspace;
    }

    /** Whether this host has loop devices to mount images on. */
    static boolean available() {
        return Files.exists(Path.of("/dev/loop-control"));
    }

    /**
     * Mounts the workspace's image (made now, owned by {@code uid}, when the workspace is new) on it.
     *
     * @throws IOException when the image cannot be made or mounted, or the workspace already holds
     *     files of its own (a job begun before workspaces had a disk size)
     */
    static WorkspaceDisk mount(Path workspace, long bytes, int uid) throws IOException {
        unmountIfMounted(workspace);
        Path image = workspace.resolve(IMAGE);
        if (!Files.exists(image)) {
            try (Stream<Path> entries = Files.list(workspace)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException("the workspace holds files outside a disk image");
                }
            }
            // Sparse: the host's disk is used only as the sandbox writes.
            try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
                file.setLength(bytes);
            }
            try {
                // No reserved blocks and no journal: the whole size is the sandbox's, and the image is
                // scratch space that a job's zip outlives.
                HostCommand.run("mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal",
                        "-E", "root_owner=" + uid + ":" + uid + ",nodiscard", image.toString());
            } catch (IOException e) {
                Files.deleteIfExists(image);
                throw e;
            }
        }
        HostCommand.run("mount", "-o", "loop,nosuid,nodev", image.toString(), workspace.toString());
        WorkspaceDisk disk = new WorkspaceDisk(workspace);
        try {
            // mkfs makes a root-only lost+found, which the sandbox could neither use nor archive.
            Path lostAndFound = workspace.resolve("lost+found");
            if (Files.isDirectory(lostAndFound)) {
                try (Stream<Path> entries = Files.list(lostAndFound)) {
                    if (entries.findAny().isEmpty()) {
                        Files.delete(lostAndFound);
                    }
                }
            }
        } catch (IOException e) {
            disk.close();
            throw e;
        }
        return disk;
    }

    /**
     * Unmounts a workspace left mounted by a control plane that died, and any other workspace
     * beside it in {@code workspaces} that is not in {@code live}.
     */
    static void unmountStale(Path workspaces, List<Path> live) {
        for (Path point : mountPoints()) {
            if (workspaces.equals(point.getParent()) && !live.contains(point) && backedByOwnImage(point)) {
                log.info("unmounting the stale workspace mount {}", point);
                unmountQuietly(point);
            }
        }
    }

    private static void unmountIfMounted(Path workspace) throws IOException {
        if (mountPoints().contains(workspace)) {
            log.info("unmounting the stale workspace mount {}", workspace);
            unmountQuietly(workspace);
            if (mountPoints().contains(workspace)) {
                throw new IOException("the workspace " + workspace + " is still mounted");
            }
        }
    }

    /** Whether the loop device mounted at {@code point} is backed by {@code point/IMAGE}. */
    private static boolean backedByOwnImage(Path point) {
        for (String line : mountInfo()) {
            String[] fields = line.split(" ");
            int dash = List.of(fields).indexOf("-");
            if (fields.length > 4 && dash > 0 && dash + 2 < fields.length
                    && CgroupHost.Mount.unescape(fields[4]).equals(point.toString()) && fields[dash + 2].startsWith("/dev/loop")) {
                Path backing = Path.of("/sys/block", Path.of(fields[dash + 2]).getFileName().toString(), "loop/backing_file");
                try {
                    return Files.readString(backing, UTF_8).strip().equals(point.resolve(IMAGE).toString());
                } catch (IOException e) {
                    return false;
                }
            }
        }
        return false;
    }

    private static List<Path> mountPoints() {
        List<Path> points = new ArrayList<>();
        for (String line : mountInfo()) {
            String[] fields = line.split(" ");
            if (fields.length > 4) {
                points.add(Path.of(CgroupHost.Mount.unescape(fields[4])));
            }
        }
        return points;
    }

    private static List<String> mountInfo() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Unmounts, lazily when something still holds the file system; never throws. */
    @Override
    public void close() {
        unmountQuietly(workspace);
    }

    private static void unmountQuietly(Path point) {
        try {
            HostCommand.run("umount", point.toString());
        } catch (IOException busy) {
            try {
                HostCommand.run("umount", "-l", point.toString());
            } catch (IOException e) {
                log.warn("cannot unmount the workspace {}: {}", point, e.getMessage());
            }
        }
    }
}
