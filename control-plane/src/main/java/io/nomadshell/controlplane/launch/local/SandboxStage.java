package io.nomadshell.controlplane.launch.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the sandbox's unprivileged bubblewrap finds the host paths it binds.
 *
 * <p>bubblewrap runs as the sandbox's own uid, and must reach each source path as that uid; a data
 * directory under {@code /root} or a test's 0700 temporary directory is not reachable. So, still as
 * root and in a mount namespace of the sandbox's own (which dies with it, leaving nothing mounted on
 * the host), each source is bind-mounted onto an empty mount point here, a directory every uid may
 * pass through (0711, root's), and bubblewrap binds from there. What a source holds is still guarded
 * by its own permissions.
 */
final class SandboxStage {
    private static final Logger log = LoggerFactory.getLogger(SandboxStage.class);

    private final Path dir;
    private final List<String> binds = new ArrayList<>();

    private SandboxStage(Path dir) {
        this.dir = dir;
    }

    /** A new, empty stage {@code parent/name}, replacing one a dead control plane left. */
    static SandboxStage create(Path parent, String name) throws IOException {
        SandboxStage stage = new SandboxStage(parent.resolve(name));
        stage.delete();
        Files.createDirectory(stage.dir);
        Files.setPosixFilePermissions(stage.dir, PosixFilePermissions.fromString("rwx--x--x"));
        return stage;
    }

    /** Adds {@code host} under {@code name} and returns the path bubblewrap binds it from. */
    Path add(String name, Path host) throws IOException {
        Path point = dir.resolve(name);
        if (Files.isDirectory(host)) {
            Files.createDirectory(point);
        } else {
            Files.createFile(point);
        }
        binds.add(host.toString());
        binds.add(point.toString());
        return point;
    }

    /** Source and mount point, pairwise, for the staging script. */
    List<String> binds() {
        return List.copyOf(binds);
    }

    /** Removes the mount points (empty on the host: the mounts lived in the sandbox's namespace); never throws. */
    void delete() {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            log.warn("cannot remove the sandbox stage {}: {}", dir, e.getMessage());
        }
    }
}
