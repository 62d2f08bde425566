package io.nomadshell.daemon.workspace;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * The directory tree a job may work in, and the only way a tool touches the file system.
 *
 * <p>{@link #resolve(String)} turns a relative path from the model into a path under the root. It
 * rejects absolute paths, {@code ..} that climbs out, and paths whose existing part leads outside
 * through a symbolic link; for a path that does not exist yet its nearest existing ancestor is
 * checked. Symbolic links that stay inside are fine.
 *
 * <p>The check is made when the path is resolved; a process that swaps a directory for a link in
 * between could still win that race. The sandbox around the daemon is the hard boundary; this
 * class keeps honest mistakes and naive escapes from ever reaching the file system.
 */
public final class Workspace {

    private final Path root;

    private Workspace(Path root) {
        this.root = root;
    }

    /**
     * Opens the workspace rooted at {@code root}, which must be an existing directory.
     *
     * @throws IOException if {@code root} does not exist or is not a directory
     */
    public static Workspace open(Path root) throws IOException {
        requireNonNull(root, "root");
        Path real = root.toRealPath();
        if (!Files.isDirectory(real)) {
            throw new NotDirectoryException(root.toString());
        }
        return new Workspace(real);
    }

    /** The real, absolute path of the root directory. */
    public Path root() {
        return root;
    }

    /**
     * Resolves {@code relative} under the root; the empty string and {@code "."} mean the root.
     * The result is normalized but not made real: symbolic links inside stay as they are.
     *
     * @throws WorkspaceException if the path is absolute, malformed, or leads outside the root
     */
    public Path resolve(String relative) throws WorkspaceException {
        requireNonNull(relative, "relative");
        Path given;
        try {
            given = Path.of(relative);
        } catch (InvalidPathException e) {
            throw new WorkspaceException("invalid path '" + relative + "': " + e.getReason());
        }
        if (given.isAbsolute()) {
            throw new WorkspaceException("path '" + relative
                    + "' is absolute; give a path relative to the workspace root");
        }
        Path candidate = root.resolve(given).normalize();
        if (!candidate.startsWith(root)) {
            throw new WorkspaceException("path '" + relative + "' leaves the workspace");
        }
        if (!staysInside(nearestExisting(candidate))) {
            throw new WorkspaceException(
                    "path '" + relative + "' leaves the workspace through a symbolic link");
        }
        return candidate;
    }

    /** The path of {@code path} relative to the root, '/'-separated; empty for the root itself. */
    public String relativize(Path path) {
        requireNonNull(path, "path");
        return root.relativize(path).toString().replace(path.getFileSystem().getSeparator(), "/");
    }

    private Path nearestExisting(Path candidate) {
        Path p = candidate;
        // The root exists, so this stops there at the latest.
        while (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            p = p.getParent();
        }
        return p;
    }

    private boolean staysInside(Path existing) {
        try {
            return existing.toRealPath().startsWith(root);
        } catch (IOException e) {
            // Only the last element can be a dangling link here (an earlier one would make
            // `existing` itself missing): judge it by where it points.
            return danglingTargetStaysInside(existing);
        }
    }

    private boolean danglingTargetStaysInside(Path link) {
        try {
            Path target = Files.readSymbolicLink(link);
            return link.getParent().toRealPath().resolve(target).normalize().startsWith(root);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
