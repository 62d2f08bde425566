package io.nomadshell.daemon.tool;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks the workspace, never following a link, for what checkpoints must treat apart: entries named
 * {@code .git}, the empty directories in them, and entries with a name checkpoints keep for themselves.
 */
final class DotGitFinder {

    static final String DOT_GIT = ".git";

    private DotGitFinder() {}

    /**
     * The entries named {@code .git} in the workspace {@code root} (directories, files or links; not
     * looked into), relative to it. A directory that cannot be opened is skipped, as {@code git add}
     * skips it.
     *
     * @throws ToolException if an entry is named {@code reserved}
     */
    static List<Path> dotGits(Path root, String reserved) throws ToolException, IOException {
        return walk(root, root, reserved, false).dotGits();
    }

    /**
     * The directories in {@code dotGit}, a .git of the workspace {@code root}, with nothing in them,
     * relative to {@code dotGit}: git records none, yet a repository needs some (refs/heads once its
     * refs are packed, objects/pack, ...).
     *
     * @throws ToolException if an entry there is named {@code reserved}
     */
    static List<Path> emptyDirectories(Path root, Path dotGit, String reserved) throws ToolException, IOException {
        return walk(root, dotGit, reserved, true).emptyDirectories();
    }

    /**
     * Whether every step from {@code root} down to {@code relative} that exists is a real directory,
     * not a link: what is written or deleted there then stays under {@code root}.
     */
    static boolean noLinksOnTheWay(Path root, Path relative) {
        Path at = root;
        for (Path step : relative) {
            at = at.resolve(step);
            if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
            if (!Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
        }
        return true;
    }

    private static Found walk(Path root, Path top, String reserved, boolean noteEmpty) throws ToolException, IOException {
        var found = new Found(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes) throws IOException {
                if (directory.equals(top)) {
                    return FileVisitResult.CONTINUE;
                }
                if (sort(directory)) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (noteEmpty && isEmpty(directory)) {
                    found.emptyDirectories().add(top.relativize(directory));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                sort(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException failure) {
                return FileVisitResult.CONTINUE;
            }

            /** Notes {@code path} if it is a .git or has the reserved name; whether it was either. */
            private boolean sort(Path path) {
                String name = path.getFileName().toString();
                if (name.equals(DOT_GIT)) {
                    found.dotGits().add(top.relativize(path));
                    return true;
                }
                if (name.equals(reserved)) {
                    found.clashes().add(root.relativize(path));
                    return true;
                }
                return false;
            }
        });
        if (!found.clashes().isEmpty()) {
            int count = found.clashes().size();
            throw new ToolException("the workspace holds '" + found.clashes().getFirst() + "', a name checkpoints keep"
                    + " for recording .git directories; rename it (" + count + " such entr" + (count == 1 ? "y" : "ies")
                    + ") so the workspace can be checkpointed");
        }
        return found;
    }

    private static boolean isEmpty(Path directory) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            return !entries.iterator().hasNext();
        }
    }

    private record Found(List<Path> dotGits, List<Path> clashes, List<Path> emptyDirectories) {}
}
