package io.nomadshell.daemon.tool;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** Walks file trees, never following a link, for what checkpoints must treat apart: entries named .git. */
final class DotGitFinder {

    static final String DOT_GIT = ".git";

    private DotGitFinder() {}

    /**
     * The entries named {@code .git} under {@code root} (directories, files or links; not looked into),
     * relative to it. A directory git cannot open is skipped, as {@code git add} skips it.
     *
     * @throws ToolException if an entry is named {@code reserved}, a name checkpoints keep for themselves
     */
    static List<Path> dotGits(Path root, String reserved) throws ToolException, IOException {
        List<Path> found = new ArrayList<>();
        List<Path> clashes = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes) {
                return directory.equals(root) || !sort(directory) ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
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

            /** Notes {@code path} if it is a .git or clashes; whether it was. */
            private boolean sort(Path path) {
                String name = path.getFileName().toString();
                if (name.equals(DOT_GIT)) {
                    found.add(root.relativize(path));
                    return true;
                }
                if (name.equals(reserved)) {
                    clashes.add(root.relativize(path));
                    return true;
                }
                return false;
            }
        });
        if (!clashes.isEmpty()) {
            throw new ToolException("the workspace holds '" + clashes.getFirst() + "', a name checkpoints keep for"
                    + " recording .git directories; rename it (" + clashes.size() + " such entr"
                    + (clashes.size() == 1 ? "y" : "ies") + ") so the workspace can be checkpointed");
        }
        return found;
    }

    /**
     * The directories under {@code top} with nothing in them, relative to it; git records none of
     * them, yet a repository needs some (refs/heads after {@code git pack-refs}, objects/pack, ...).
     * Also refuses an entry named {@code reserved} there, as {@link #dotGits} does.
     */
    static List<Path> emptyDirectories(Path top, String reserved) throws ToolException, IOException {
        List<Path> empty = new ArrayList<>();
        List<Path> clashes = new ArrayList<>();
        // How many entries each directory being walked has shown so far.
        Deque<int[]> counts = new ArrayDeque<>();
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes) {
                count(directory);
                counts.push(new int[1]);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                count(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException failure) {
                count(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException failure) {
                if (counts.pop()[0] == 0 && failure == null && !directory.equals(top)) {
                    empty.add(top.relativize(directory));
                }
                return FileVisitResult.CONTINUE;
            }

            private void count(Path path) {
                if (!counts.isEmpty()) {
                    counts.peek()[0]++;
                }
                if (path.getFileName().toString().equals(reserved)) {
                    clashes.add(path);
                }
            }
        });
        if (!clashes.isEmpty()) {
            throw new ToolException("the git directory '" + top + "' holds '" + top.relativize(clashes.getFirst())
                    + "', a name checkpoints keep for themselves; it cannot be checkpointed");
        }
        return empty;
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
}
