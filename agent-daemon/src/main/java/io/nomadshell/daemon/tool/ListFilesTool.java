package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.FileEntry;
import io.nomadshell.proto.v1.ListFilesAction;
import io.nomadshell.proto.v1.ListFilesResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Lists a directory recursively, sorted by path, down to {@code max_depth} levels. Symbolic links
 * are listed, never followed, and bulky tool directories are listed without their contents.
 *
 * <p>The tree is walked breadth first, so when the cap cuts the listing short the model still
 * sees the top of the tree rather than the depths of its first directory.
 */
final class ListFilesTool {

    static final int MAX_ENTRIES = 1000;
    static final Set<String> NOT_DESCENDED =
            Set.of(".git", "node_modules", "__pycache__", ".venv", "target");

    private final Workspace workspace;

    /** A directory to list and how far below the start it is (the start is 0). */
    private record Level(Path directory, int depth) {}

    ListFilesTool(Workspace workspace) {
        this.workspace = requireNonNull(workspace, "workspace");
    }

    ListFilesResult run(ListFilesAction action) throws ToolException, WorkspaceException, IOException {
        String given = action.getPath();
        Path start = workspace.resolve(given);
        if (!Files.exists(start)) {
            throw new ToolException("no such directory: " + given);
        }
        if (!Files.isDirectory(start)) {
            throw new ToolException("not a directory: " + given);
        }
        long maxDepth = Integer.toUnsignedLong(action.getMaxDepth());
        List<FileEntry> entries = new ArrayList<>();
        boolean truncated = false;
        Deque<Level> pending = new ArrayDeque<>(List.of(new Level(start, 0)));
        walk:
        while (!pending.isEmpty()) {
            Level level = pending.removeFirst();
            Path directory = level.directory();
            List<Path> children;
            try (Stream<Path> listing = Files.list(directory)) {
                children = listing.sorted().toList();
            } catch (IOException e) {
                if (directory.equals(start)) {
                    throw e;
                }
                continue; // An unreadable subdirectory is listed, its contents are not.
            }
            for (Path child : children) {
                if (entries.size() == MAX_ENTRIES) {
                    truncated = true;
                    break walk;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(
                            child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    continue; // Gone since the listing.
                }
                int depth = level.depth() + 1;
                boolean descend = attributes.isDirectory()
                        && !NOT_DESCENDED.contains(child.getFileName().toString())
                        && (maxDepth == 0 || depth < maxDepth);
                entries.add(FileEntry.newBuilder()
                        .setPath(workspace.relativize(child))
                        .setDirectory(attributes.isDirectory())
                        .setSize(attributes.isRegularFile() ? attributes.size() : 0)
                        .setNotDescended(attributes.isDirectory() && !descend)
                        .build());
                if (descend) {
                    pending.addLast(new Level(child, depth));
                }
            }
        }
        entries.sort(Comparator.comparing(FileEntry::getPath));
        return ListFilesResult.newBuilder().addAllEntries(entries).setTruncated(truncated).build();
    }
}
