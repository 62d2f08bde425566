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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
            "commit.gpgSign=false", "core.quotePath=false");
    /** Whatever a .gitattributes in the workspace asks for, files go in and come out byte for byte. */
    private static final String ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n";
    private static final String CONFIG = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n";
    private static final String IDENTITY = "Nomad Shell";
    private static final String EMAIL = "checkpoints@nomad-shell.invalid";

    private final Path gitDir;
    private final Path workTree;

    CheckpointRepository(Path gitDir, Path workTree) {
        this.gitDir = requireNonNull(gitDir, "gitDir").toAbsolutePath();
        this.workTree = requireNonNull(workTree, "workTree");
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
        return git(Map.of(), arguments);
    }

    /** Whether git with {@code arguments} succeeds (a question such as {@code cat-file -e}). */
    boolean succeeds(String... arguments) throws ToolException, InterruptedException {
        return run(Map.of(), arguments).exitCode() == 0;
    }

    /**
     * Commits {@code tree} on {@code parent} (none when empty) as step {@code step}; the author, the
     * committer and their dates follow from the step, so the same step of the same files on the same
     * parent is always the same commit.
     */
    String commit(String tree, String parent, int step) throws GitFailure, ToolException, InterruptedException {
        String date = "@" + step + " +0000";
        var environment = Map.of("GIT_AUTHOR_NAME", IDENTITY, "GIT_AUTHOR_EMAIL", EMAIL, "GIT_AUTHOR_DATE", date,
                "GIT_COMMITTER_NAME", IDENTITY, "GIT_COMMITTER_EMAIL", EMAIL, "GIT_COMMITTER_DATE", date);
        return parent.isEmpty()
                ? git(environment, "commit-tree", tree, "-m", "step " + step)
                : git(environment, "commit-tree", tree, "-p", parent, "-m", "step " + step);
    }

    /** Entries in the index: the files and links of the last {@code add} or {@code read-tree}. */
    int indexEntries() throws GitFailure, IOException {
        Path index = gitDir.resolve("index");
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

    private String git(Map<String, String> extra, String... arguments)
            throws GitFailure, ToolException, InterruptedException {
        CommandRunner.Outcome outcome = run(extra, arguments);
        if (outcome.exitCode() != 0) {
            String why = outcome.stderr().isEmpty() ? "exit code " + outcome.exitCode() : outcome.stderr();
            throw new GitFailure("git " + arguments[0] + " failed: "
                    + (why.length() > 500 ? why.substring(0, 500) + "…" : why));
        }
        return outcome.stdoutText().strip();
    }

    private CommandRunner.Outcome run(Map<String, String> extra, String... arguments)
            throws ToolException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git", "-C", workTree.toString()));
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
        environment.put("GIT_WORK_TREE", workTree.toString());
        environment.put("GIT_INDEX_FILE", gitDir.resolve("index").toString());
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

    /** A git command failed: the repository may have been tampered with. */
    static final class GitFailure extends Exception {
        GitFailure(String message) {
            super(message);
        }
    }
}
