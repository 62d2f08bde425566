package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The sandbox's checkpoint repository: a git directory outside the workspace whose work tree is the
 * workspace, driven through the git CLI with none of the host's or the user's git setup: no system
 * or global config, no hooks, and its own config and attributes written again before each use.
 *
 * <p>The agent runs as the same user and can change this directory. What it breaks shows as a
 * failing git command ({@link GitFailure}); the caller then {@link #wipe() wipes} it and starts over.
 */
final class CheckpointRepository {

    /** The branch whose tip records the workspace's latest checkpoint. */
    static final String BRANCH = "refs/heads/ckpt";

    private static final Duration GIT_TIMEOUT = Duration.ofMinutes(10);
    private static final List<String> SETTINGS = List.of("core.hooksPath=/dev/null", "core.fsmonitor=false",
            "core.autocrlf=false", "core.symlinks=true", "core.fileMode=true", "gc.auto=0",
            "commit.gpgSign=false", "core.quotePath=false", "core.logAllRefUpdates=false");
    /** Loose objects past this (KiB) are looked through for ones no checkpoint needs any more. */
    private static final long PRUNE_ABOVE_KIB = 8 * 1024;
    /** Whatever a .gitattributes in the workspace asks for, files go in and come out byte for byte. */
    private static final String ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n";
    private static final String CONFIG = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n";
    private static final String IDENTITY = "Nomad Shell";
    private static final String EMAIL = "checkpoints@nomad-shell.invalid";

    private final Path gitDir;
    private final Place workspace;
    private final GitDirectoryStandIns standIns;

    CheckpointRepository(Path gitDir, Path workTree) {
        this.gitDir = requireNonNull(gitDir, "gitDir").toAbsolutePath();
        this.workspace = new Place(requireNonNull(workTree, "workTree"), this.gitDir.resolve("index"));
        this.standIns = new GitDirectoryStandIns(this);
    }

    Path gitDir() {
        return gitDir;
    }

    /** Makes the repository if there is none, and writes its config and attributes again. */
    void open() throws GitFailure, ToolException, IOException, InterruptedException {
        if (!Files.isRegularFile(gitDir.resolve("HEAD"), LinkOption.NOFOLLOW_LINKS)) {
            wipe();
            Files.createDirectories(gitDir);
            git("init", "--quiet");
        }
        replace(gitDir.resolve("config"), CONFIG);
        Files.createDirectories(gitDir.resolve("info"));
        replace(gitDir.resolve("info").resolve("attributes"), ATTRIBUTES);
    }

    /** Deletes the repository; the next {@link #open()} starts an empty one. */
    void wipe() throws IOException {
        TreeEraser.erase(gitDir);
    }

    /** Runs git with {@code arguments} in the work tree and returns what it printed, stripped. */
    String git(String... arguments) throws GitFailure, ToolException, InterruptedException {
        return git(workspace, Map.of(), arguments);
    }

    /** Whether git with {@code arguments} succeeds (a question such as {@code cat-file -e}). */
    boolean succeeds(String... arguments) throws ToolException, InterruptedException {
        return run(workspace, Map.of(), arguments).exitCode() == 0;
    }

    /**
     * Records every file of the workspace as a tree, ignored ones included ({@code --force}: a user's
     * .gitignore hides nothing). Git would record a directory that is itself a repository (a clone the
     * agent made) as a bare commit id, a "gitlink"; such a directory is recorded on its own, with an
     * index of its own, and its tree put in the gitlink's place. Every {@code .git} is then added under
     * its stand-in name ({@link GitDirectoryStandIns}); the files counted are those outside them.
     */
    Snapshot snapshot() throws GitFailure, ToolException, IOException, InterruptedException {
        Snapshot files = snapshot(workspace);
        return new Snapshot(standIns.record(files.tree()), files.files());
    }

    /**
     * Writes {@code commit}'s files into the emptied workspace, each {@code .git} under its real name,
     * and returns how many files and links it wrote outside them.
     */
    int checkout(String commit) throws GitFailure, ToolException, IOException, InterruptedException {
        return standIns.restore(commit);
    }

    private Snapshot snapshot(Place place) throws GitFailure, ToolException, IOException, InterruptedException {
        git(place, Map.of(), "add", "--all", "--force", "--", ".");
        String tree = git(place, Map.of(), "write-tree");
        List<String> repositories = gitlinks(place);
        if (repositories.isEmpty()) {
            return new Snapshot(tree, indexEntries(place.index()));
        }
        var composed = new Place(place.workTree(), Path.of(place.index() + ".composed"));
        Files.deleteIfExists(composed.index());
        git(composed, Map.of(), "read-tree", tree);
        for (String path : repositories) {
            Path directory = place.workTree().resolve(path);
            String inner = snapshot(nested(directory)).tree();
            git(composed, Map.of(), "update-index", "--force-remove", "--", path);
            git(composed, Map.of(), "read-tree", "--prefix=" + path + "/", inner);
        }
        return new Snapshot(git(composed, Map.of(), "write-tree"), indexEntries(composed.index()));
    }

    /** The paths the index of {@code place} holds as gitlinks: directories that are repositories themselves. */
    private List<String> gitlinks(Place place) throws GitFailure, ToolException, InterruptedException {
        List<String> paths = new ArrayList<>();
        // -z: "<mode> <object> <stage>\t<path>", each ended by NUL, with the path as it is.
        for (String entry : git(place, Map.of(), "ls-files", "--stage", "-z").split("\0")) {
            if (entry.startsWith("160000 ")) {
                paths.add(entry.substring(entry.indexOf('\t') + 1));
            }
        }
        return paths;
    }

    /** {@code workTree} with an index of its own, kept between checkpoints so unchanged files are not read again. */
    Place nested(Path workTree) {
        return new Place(workTree, nestedIndex(workTree));
    }

    /** The workspace with a throw-away index named {@code name}, emptied first, for composing trees. */
    Place scratch(String name) throws IOException {
        var place = new Place(workspace.workTree(), gitDir.resolve(name));
        Files.deleteIfExists(place.index());
        return place;
    }

    Place workspace() {
        return workspace;
    }

    /** The bytes of blob {@code object}, exactly. */
    byte[] blob(String object) throws GitFailure, ToolException, InterruptedException {
        CommandRunner.Outcome outcome = run(workspace, Map.of(), "cat-file", "blob", object);
        if (outcome.exitCode() != 0) {
            throw new GitFailure("git cat-file failed: " + outcome.stderr());
        }
        return outcome.stdout();
    }

    private Path nestedIndex(Path directory) {
        String name = HexFormat.of().formatHex(sha256(directory.toString().getBytes(StandardCharsets.UTF_8)));
        return gitDir.resolve("nested-index-" + name);
    }

    /**
     * Commits {@code tree} on {@code parent} (none when empty) as step {@code step}; the author, the
     * committer and their dates follow from the step, so the same step of the same files on the same
     * parent is always the same commit. The parent is then where the sandbox's history stops (git's
     * {@code shallow} file): the control plane holds every older checkpoint, so what only those held
     * can go from the sandbox ({@link #pruneIfLarge()}), while a bundle from the parent on still
     * carries only what changed.
     */
    String commit(String tree, String parent, int step) throws GitFailure, ToolException, IOException,
            InterruptedException {
        String date = "@" + step + " +0000";
        var environment = Map.of("GIT_AUTHOR_NAME", IDENTITY, "GIT_AUTHOR_EMAIL", EMAIL, "GIT_AUTHOR_DATE", date,
                "GIT_COMMITTER_NAME", IDENTITY, "GIT_COMMITTER_EMAIL", EMAIL, "GIT_COMMITTER_DATE", date);
        if (parent.isEmpty()) {
            return git(workspace, environment, "commit-tree", tree, "-m", "step " + step);
        }
        var commit = git(workspace, environment, "commit-tree", tree, "-p", parent, "-m", "step " + step);
        replace(gitDir.resolve("shallow"), parent + "\n");
        return commit;
    }

    /**
     * Deletes loose objects that neither the newest checkpoint (down to its parent) nor the index holds any more, once
     * there are enough of them to matter: the repository lives in the sandbox's {@code /tmp}, which a
     * workspace rewritten step after step would otherwise fill with history the control plane has.
     */
    void pruneIfLarge() throws GitFailure, ToolException, InterruptedException {
        for (String line : git(workspace, "count-objects", "-v").split("\n")) {
            if (line.startsWith("size: ") && Long.parseLong(line.substring(6).strip()) > PRUNE_ABOVE_KIB) {
                git(workspace, "prune", "--expire=now");
                return;
            }
        }
    }

    /** Entries in {@code index}: the files and links of the last {@code add} or {@code read-tree}. */
    static int indexEntries(Path index) throws GitFailure, IOException {
        if (!Files.exists(index, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        try (InputStream in = Files.newInputStream(index, LinkOption.NOFOLLOW_LINKS)) {
            // The header: "DIRC", a version, then the number of entries, all big-endian.
            ByteBuffer header = ByteBuffer.wrap(in.readNBytes(12));
            if (header.limit() < 12 || header.getInt(0) != 0x44495243) {
                throw new GitFailure("the index is not a git index");
            }
            return header.getInt(8);
        }
    }

    String git(Place place, String... arguments) throws GitFailure, ToolException, InterruptedException {
        return git(place, Map.of(), arguments);
    }

    String git(Place place, Map<String, String> extra, String... arguments)
            throws GitFailure, ToolException, InterruptedException {
        CommandRunner.Outcome outcome = run(place, extra, arguments);
        if (outcome.exitCode() != 0) {
            String why = outcome.stderr().isEmpty() ? "exit code " + outcome.exitCode() : outcome.stderr();
            throw new GitFailure("git " + arguments[0] + " failed: "
                    + (why.length() > 500 ? why.substring(0, 500) + "…" : why));
        }
        return outcome.stdoutText().strip();
    }

    private CommandRunner.Outcome run(Place place, Map<String, String> extra, String... arguments)
            throws ToolException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git", "-C", place.workTree().toString()));
        for (String setting : SETTINGS) {
            command.add("-c");
            command.add(setting);
        }
        command.addAll(List.of(arguments));
        Map<String, String> environment = new HashMap<>(extra);
        environment.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        environment.put("LC_ALL", "C");
        environment.put("GIT_CONFIG_NOSYSTEM", "1");
        environment.put("GIT_CONFIG_GLOBAL", "/dev/null");
        environment.put("GIT_DIR", gitDir.toString());
        environment.put("GIT_WORK_TREE", place.workTree().toString());
        environment.put("GIT_INDEX_FILE", place.index().toString());
        return CommandRunner.runWithOnly(command, environment, GIT_TIMEOUT);
    }

    /** Writes {@code file} anew, replacing a link the agent may have put there rather than writing through it. */
    private void replace(Path file, String content) throws IOException {
        Path temporary = Files.createTempFile(file.getParent(), ".", ".new");
        try {
            Files.writeString(temporary, content, StandardCharsets.UTF_8);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** A tree recorded and the files and links in it. */
    record Snapshot(String tree, int files) {}

    /** A work tree and the index that caches its files' stat data. */
    record Place(Path workTree, Path index) {}

    /** A git command failed: the repository may have been tampered with. */
    static final class GitFailure extends Exception {
        GitFailure(String message) {
            super(message);
        }
    }
}
