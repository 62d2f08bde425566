package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.CheckpointRepository.GitFailure;
import io.nomadshell.daemon.tool.CheckpointRepository.Place;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts every entry named {@code .git} of the workspace (its own repository, a clone's, the
 * {@code .git} file of a worktree or submodule) into a checkpoint's tree and back out on a restore.
 * Git refuses tree entries named {@code .git}, so each is recorded beside it under the stand-in
 * name {@value #NAME}: a directory as a tree, a file or a link as a blob.
 *
 * <p>A {@code .git} directory is recorded as a work tree of its own, with an index of its own, so
 * nothing in the workspace is renamed or touched, and a pack that did not change is not read again.
 * Git records no empty directory, yet a repository needs some ({@code refs/heads} once its refs are
 * packed, {@code objects/pack}): each holds a placeholder {@value #EMPTY_DIRECTORY} in the tree only,
 * written on a restore and deleted right after. The daemon never runs git with such a directory as
 * its git directory: to it, the user's config and hooks are only files.
 */
final class GitDirectoryStandIns {

    /** What a {@code .git} is called in a checkpoint's tree. */
    static final String NAME = ".nomad-shell-dotgit";
    /** The placeholder that keeps an empty directory of a {@code .git} in a checkpoint's tree. */
    static final String EMPTY_DIRECTORY = ".nomad-shell-empty-directory";

    private static final String TREE = "040000";
    private static final String LINK = "120000";
    private static final String EXECUTABLE = "100755";
    private static final String FILE = "100644";

    private final CheckpointRepository repository;

    GitDirectoryStandIns(CheckpointRepository repository) {
        this.repository = requireNonNull(repository, "repository");
    }

    /** {@code tree} (the workspace's files) with every .git of the workspace added under its stand-in name. */
    String record(String tree) throws GitFailure, ToolException, IOException, InterruptedException {
        Path root = repository.workspace().workTree();
        List<Path> dotGits = DotGitFinder.dotGits(root, NAME);
        if (dotGits.isEmpty()) {
            return tree;
        }
        Place composed = repository.scratch("index.stand-ins");
        repository.git(composed, "read-tree", tree);
        for (Path dotGit : dotGits) {
            String standIn = standInFor(dotGit);
            Path real = root.resolve(dotGit);
            var attributes = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (attributes.isDirectory()) {
                repository.git(composed, "read-tree", "--prefix=" + standIn + "/", recordDirectory(real));
            } else if (attributes.isSymbolicLink() || attributes.isRegularFile()) {
                repository.git(composed, "update-index", "--add", "--cacheinfo", blobEntry(real, attributes) + "," + standIn);
            }
        }
        return repository.git(composed, "write-tree");
    }

    /**
     * Writes {@code commit}'s files into the empty workspace, each stand-in as the {@code .git} it
     * stands for; returns the files and links written outside them.
     */
    int restore(String commit) throws GitFailure, ToolException, IOException, InterruptedException {
        Map<String, Entry> standIns = standIns(commit);
        Place workspace = repository.workspace();
        if (standIns.isEmpty()) {
            repository.git(workspace, "read-tree", "--reset", "-u", commit);
            return CheckpointRepository.indexEntries(workspace.index());
        }
        Place stripped = repository.scratch("index.stand-ins");
        repository.git(stripped, "read-tree", commit);
        List<String> remove = new ArrayList<>(List.of("rm", "--cached", "-r", "-q", "-f", "--ignore-unmatch", "--"));
        remove.addAll(standIns.keySet());
        repository.git(stripped, Map.of("GIT_LITERAL_PATHSPECS", "1"), remove.toArray(String[]::new));
        String files = repository.git(stripped, "write-tree");
        Files.deleteIfExists(workspace.index());
        // The index then holds the files' stat data, so the next checkpoint reads none of them again.
        repository.git(workspace, "read-tree", "--reset", "-u", files);
        for (var standIn : standIns.entrySet()) {
            write(standIn.getKey(), standIn.getValue());
        }
        return CheckpointRepository.indexEntries(workspace.index());
    }

    /** The tree of the .git directory {@code real}, its empty directories each holding a placeholder. */
    private String recordDirectory(Path real) throws GitFailure, ToolException, IOException, InterruptedException {
        Place place = repository.nested(real);
        repository.git(place, "add", "--all", "--force", "--", ".");
        List<Path> empty = DotGitFinder.emptyDirectories(repository.workspace().workTree(), real, EMPTY_DIRECTORY);
        if (!empty.isEmpty()) {
            // Its standard input is /dev/null: the empty blob, written so the tree may name it.
            String nothing = repository.git(place, "hash-object", "-w", "--stdin");
            List<String> add = new ArrayList<>(List.of("update-index", "--add"));
            for (Path directory : empty) {
                add.add("--cacheinfo");
                add.add(FILE + "," + nothing + "," + slashed(directory.resolve(EMPTY_DIRECTORY)));
            }
            repository.git(place, add.toArray(String[]::new));
        }
        return repository.git(place, "write-tree");
    }

    /** "mode,object" of the .git file or link {@code real}, its blob written. */
    private String blobEntry(Path real, BasicFileAttributes attributes)
            throws GitFailure, ToolException, IOException, InterruptedException {
        Place workspace = repository.workspace();
        if (attributes.isRegularFile()) {
            String mode = Files.isExecutable(real) ? EXECUTABLE : FILE;
            return mode + "," + repository.git(workspace, "hash-object", "-w", "--no-filters", "--", real.toString());
        }
        // hash-object would follow the link: hash its target's text instead.
        Path target = Files.createTempFile(repository.gitDir(), "link-", ".target");
        try {
            Files.writeString(target, Files.readSymbolicLink(real).toString(), StandardCharsets.UTF_8);
            return LINK + "," + repository.git(workspace, "hash-object", "-w", "--no-filters", "--", target.toString());
        } finally {
            Files.delete(target);
        }
    }

    /** The outermost stand-ins of {@code commit}'s tree by path, each with the placeholders under it. */
    private Map<String, Entry> standIns(String commit) throws GitFailure, ToolException, InterruptedException {
        Map<String, Entry> found = new LinkedHashMap<>();
        // -z: "<mode> <type> <object>\t<path>", each ended by NUL, with the path as it is.
        for (String line : repository.git("ls-tree", "-r", "-t", "-z", commit).split("\0")) {
            int tab = line.indexOf('\t');
            if (tab < 0) {
                continue;
            }
            String path = line.substring(tab + 1);
            int at = outermostStandIn(path);
            if (at < 0) {
                continue;
            }
            String standIn = path.substring(0, at + NAME.length());
            if (standIn.equals(path)) {
                String[] head = line.substring(0, tab).split(" ");
                found.put(path, new Entry(head[0], head[2], new ArrayList<>()));
            } else if (path.endsWith("/" + EMPTY_DIRECTORY) && found.containsKey(standIn)) {
                found.get(standIn).placeholders().add(path.substring(standIn.length() + 1));
            }
        }
        return found;
    }

    /** Writes the stand-in at {@code path} back as the .git beside it. */
    private void write(String path, Entry entry) throws GitFailure, ToolException, IOException, InterruptedException {
        Path root = repository.workspace().workTree();
        Path parent = parentOf(Path.of(path));
        if (!DotGitFinder.noLinksOnTheWay(root, parent)) {
            throw new ToolException("the checkpoint puts '" + path + "' under a link; it is not restored");
        }
        Path real = Files.createDirectories(root.resolve(parent)).resolve(DotGitFinder.DOT_GIT);
        switch (entry.mode()) {
            case TREE -> {
                Files.createDirectory(real);
                Place place = repository.nested(real);
                Files.deleteIfExists(place.index());
                repository.git(place, "read-tree", "--reset", "-u", entry.object());
                for (String placeholder : entry.placeholders()) {
                    Path relative = Path.of(placeholder);
                    if (DotGitFinder.noLinksOnTheWay(real, parentOf(relative))) {
                        Files.deleteIfExists(real.resolve(relative));
                    }
                }
            }
            case LINK -> Files.createSymbolicLink(real, Path.of(new String(repository.blob(entry.object()),
                    StandardCharsets.UTF_8)));
            case FILE, EXECUTABLE -> {
                Files.write(real, repository.blob(entry.object()), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
                if (entry.mode().equals(EXECUTABLE)) {
                    Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            default -> throw new ToolException("the checkpoint records '" + path + "' as mode " + entry.mode()
                    + ", which no .git has");
        }
    }

    /** Where in {@code path} the first component named {@value #NAME} starts, or -1. */
    private static int outermostStandIn(String path) {
        int start = 0;
        for (String component : path.split("/")) {
            if (component.equals(NAME)) {
                return start;
            }
            start += component.length() + 1;
        }
        return -1;
    }

    private static Path parentOf(Path relative) {
        return relative.getParent() == null ? Path.of("") : relative.getParent();
    }

    private static String standInFor(Path dotGit) {
        Path parent = dotGit.getParent();
        return parent == null ? NAME : slashed(parent.resolve(NAME));
    }

    private static String slashed(Path relative) {
        return relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
    }

    /** A stand-in in a checkpoint's tree: its mode, its object, and for a tree the placeholders in it. */
    private record Entry(String mode, String object, List<String> placeholders) {}
}
