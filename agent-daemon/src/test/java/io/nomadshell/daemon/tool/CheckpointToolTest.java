package io.nomadshell.daemon.tool;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.CheckpointAction;
import io.nomadshell.proto.v1.CheckpointResult;
import io.nomadshell.proto.v1.RestoreAction;
import io.nomadshell.proto.v1.RestoreResult;
import io.nomadshell.proto.v1.ToolCall;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and restores with the real git CLI on real files: what a checkpoint records, the
 * bundles a control plane's repository (a bare one here) accepts, restores byte for byte, and a
 * repository or a bundle the agent or a bug spoiled.
 */
class CheckpointToolTest {
    @TempDir
    Path temp;

    private Path root;
    private CheckpointTool tool;
    /** The control plane's side: a bare repository the bundles are fetched into. */
    private Path controlPlane;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createDirectory(temp.resolve("ws"));
        tool = new CheckpointTool(Workspace.open(root), temp.resolve("sandbox-tmp/checkpoints"));
        controlPlane = temp.resolve("control-plane.git");
        git(temp, "init", "--quiet", "--bare", controlPlane.toString());
    }

    @Test
    void recordsFilesTheExecuteBitLinksIgnoredFilesAndDotfilesAndTheWorkspacesGitUnderItsStandInName() throws Exception {
        write("src/main.c", "int main() { return 0; }\n");
        write("run.sh", "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(root.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(root.resolve("main-link"), Path.of("src/main.c"));
        write(".gitignore", "*.log\n");
        write("build.log", "ignored by the user's .gitignore, kept by the checkpoint\n");
        write(".env", "A=1\n");
        // The user's own repository config asks for line-ending conversion; the checkpoint keeps the bytes.
        write(".gitattributes", "* text eol=crlf\n");
        write("dos.txt", "one\r\ntwo\n");
        git(root, "init", "--quiet");

        var recorder = new Recorder();
        var result = tool.checkpoint(step(1, ""), recorder.forCall("c1"));

        assertThat(result.getBundleBytes()).isPositive().isEqualTo(recorder.bundleBytes().length);
        assertThat(recorder.events).allSatisfy(e -> assertThat(e.getCallId()).isEqualTo("c1"));
        fetchIntoControlPlane(recorder.bundleBytes());
        assertThat(filesOutsideRepositories(result.getCommit()))
                .containsExactlyInAnyOrder("100644 .env", "100644 .gitattributes", "100644 .gitignore",
                        "100644 build.log", "100644 dos.txt", "120000 main-link", "100755 run.sh", "100644 src/main.c");
        assertThat(git(controlPlane, "cat-file", "blob", result.getCommit() + ":dos.txt")).isEqualTo("one\r\ntwo\n");
        assertThat(git(controlPlane, "cat-file", "blob", result.getCommit() + ":main-link")).isEqualTo("src/main.c");
        assertThat(git(controlPlane, "log", "--format=%s|%an|%at", result.getCommit())).isEqualTo("step 1|Nomad Shell|1\n");
        assertThat(git(controlPlane, "cat-file", "blob", result.getCommit() + ":.nomad-shell-dotgit/HEAD"))
                .isEqualTo(Files.readString(root.resolve(".git/HEAD")));
        // The files counted are the project's, not git's.
        assertThat(result.getFiles()).isEqualTo(8);
    }

    @Test
    void aCloneInsideTheWorkspaceIsRecordedFileByFileNotAsAGitlink() throws Exception {
        write("project/README.md", "committed\n");
        write("project/lib/inner.c", "inner\n");
        git(root.resolve("project/lib"), "init", "--quiet");
        git(root.resolve("project/lib"), "add", "inner.c");
        git(root.resolve("project/lib"), "commit", "--quiet", "-m", "inner");
        git(root.resolve("project"), "init", "--quiet");
        git(root.resolve("project"), "add", "README.md");
        git(root.resolve("project"), "commit", "--quiet", "-m", "outer");
        write("project/notes.txt", "not committed yet\n");
        write("top.txt", "top\n");

        var recorder = new Recorder();
        var one = tool.checkpoint(step(1, ""), recorder.forCall("c1"));
        fetchIntoControlPlane(recorder.bundleBytes());
        assertThat(filesOutsideRepositories(one.getCommit()))
                .containsExactlyInAnyOrder("100644 project/README.md", "100644 project/lib/inner.c",
                        "100644 project/notes.txt", "100644 top.txt");
        assertThat(one.getFiles()).isEqualTo(4);

        assertThat(tool.checkpoint(step(2, one.getCommit()), new Recorder().forCall("c2")).getCommit())
                .isEqualTo(one.getCommit());
        write("project/lib/inner.c", "changed\n");
        var after = new Recorder();
        var three = tool.checkpoint(step(3, one.getCommit()), after.forCall("c3"));
        fetchIntoControlPlane(after.bundleBytes());
        assertThat(git(controlPlane, "cat-file", "blob", three.getCommit() + ":project/lib/inner.c")).isEqualTo("changed\n");
    }

    @Test
    void aSecondCheckpointSendsOnlyTheChangeWhichTheControlPlaneAcceptsOnTopOfTheFirst() throws Exception {
        write("big.bin", randomText(200_000));
        write("notes.txt", "first\n");
        var first = new Recorder();
        var one = tool.checkpoint(step(1, ""), first.forCall("c1"));
        fetchIntoControlPlane(first.bundleBytes());

        write("notes.txt", "second\n");
        var second = new Recorder();
        var two = tool.checkpoint(step(2, one.getCommit()), second.forCall("c2"));

        assertThat(two.getCommit()).isNotEqualTo(one.getCommit());
        assertThat(two.getBundleBytes()).isPositive().isLessThan(2_000);
        fetchIntoControlPlane(second.bundleBytes());
        assertThat(git(controlPlane, "rev-parse", two.getCommit() + "^").strip()).isEqualTo(one.getCommit());
        assertThat(git(controlPlane, "cat-file", "blob", two.getCommit() + ":notes.txt")).isEqualTo("second\n");
    }

    @Test
    void whatOnlyOlderCheckpointsHeldLeavesTheSandboxOnceItAddsUp() throws Exception {
        var gitDir = temp.resolve("sandbox-tmp/checkpoints");
        String base = "";
        for (int step = 1; step <= 5; step++) {
            var bytes = new byte[6 << 20];
            new Random(step).nextBytes(bytes);
            Files.write(root.resolve("rewritten.bin"), bytes);
            var recorder = new Recorder();
            var done = tool.checkpoint(step(step, base), recorder.forCall("c" + step));
            fetchIntoControlPlane(recorder.bundleBytes());
            assertThat(done.getBundleBytes()).as("step %d carries its file once", step).isBetween(6L << 20, 7L << 20);
            base = done.getCommit();
        }
        // Five 6 MiB files went through (30 MiB); the sandbox keeps the newest checkpoint's and its parent's
        // (the next bundle's base) and, at most, what piled up below the prune threshold (8 MiB) besides.
        var counted = git(gitDir.getParent(), "--git-dir=" + gitDir, "count-objects", "-v");
        var looseKib = Long.parseLong(counted.lines().filter(line -> line.startsWith("size: ")).findFirst().orElseThrow()
                .substring(6).strip());
        assertThat(looseKib).as("loose objects left in the sandbox, KiB").isLessThan(24 * 1024);
        assertThat(git(controlPlane, "cat-file", "-s", base + ":rewritten.bin").strip()).isEqualTo(Integer.toString(6 << 20));
    }

    @Test
    void anUnchangedWorkspaceKeepsItsCommitAndSendsNothing() throws Exception {
        write("a.txt", "same\n");
        var one = tool.checkpoint(step(1, ""), new Recorder().forCall("c1"));
        var recorder = new Recorder();
        var two = tool.checkpoint(step(2, one.getCommit()), recorder.forCall("c2"));

        assertThat(two.getCommit()).isEqualTo(one.getCommit());
        assertThat(two.getBundleBytes()).isZero();
        assertThat(recorder.events).isEmpty();
        assertThat(two.getFiles()).isEqualTo(1);
    }

    @Test
    void aRestoreReproducesTheTreeByteForByteAndRemovesWhatWasThere() throws Exception {
        write("src/app.py", "print('hi')\n");
        write("tools/build.sh", "#!/bin/sh\nmake\n");
        Files.setPosixFilePermissions(root.resolve("tools/build.sh"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.write(root.resolve("data.bin"), randomBytes(300_000));
        Files.createSymbolicLink(root.resolve("latest"), Path.of("src/app.py"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("nowhere/at/all"));
        write(".hidden/config", "x=1\n");
        var recorder = new Recorder();
        var recorded = tool.checkpoint(step(3, ""), recorder.forCall("c3"));

        var other = Files.createDirectory(temp.resolve("other-ws"));
        Files.writeString(other.resolve("stale.txt"), "from before");
        Files.createDirectories(other.resolve("old/deeper"));
        Files.writeString(other.resolve("old/deeper/file"), "from before");
        Files.setPosixFilePermissions(other.resolve("old/deeper"), PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.createSymbolicLink(other.resolve("src"), root);
        var restorer = new CheckpointTool(Workspace.open(other), temp.resolve("other-tmp/checkpoints"));
        var result = restoreInChunks(restorer, recorder.bundleBytes(), recorded.getCommit(), 64 * 1024);

        assertThat(result.getFiles()).isEqualTo(6);
        assertThat(result.getReceived()).isEqualTo(recorder.bundleBytes().length);
        assertThat(describe(other)).isEqualTo(describe(root));
        assertThat(Files.readString(root.resolve("src/app.py"))).isEqualTo("print('hi')\n");
    }

    @Test
    void aCheckpointRightAfterARestoreIsTheRestoredCommitWithNoBundle() throws Exception {
        write("a.txt", "a\n");
        Files.createSymbolicLink(root.resolve("b"), Path.of("a.txt"));
        var recorder = new Recorder();
        var recorded = tool.checkpoint(step(4, ""), recorder.forCall("c4"));
        var other = Files.createDirectory(temp.resolve("other-ws"));
        var restorer = new CheckpointTool(Workspace.open(other), temp.resolve("other-tmp/checkpoints"));
        restoreInChunks(restorer, recorder.bundleBytes(), recorded.getCommit(), 1 << 20);

        var after = new Recorder();
        var again = restorer.checkpoint(step(5, recorded.getCommit()), after.forCall("c5"));

        assertThat(again.getCommit()).isEqualTo(recorded.getCommit());
        assertThat(again.getBundleBytes()).isZero();
        assertThat(after.events).isEmpty();
    }

    @Test
    void aRepositoryTheAgentSpoiledIsStartedOverWithAFullBundle() throws Exception {
        write("a.txt", "a\n");
        var one = tool.checkpoint(step(1, ""), new Recorder().forCall("c1"));
        // The agent runs as the same user: it overwrites every file of the checkpoint repository.
        Files.walkFileTree(temp.resolve("sandbox-tmp/checkpoints"), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
                Files.writeString(file, "junk");
                return FileVisitResult.CONTINUE;
            }
        });
        write("a.txt", "b\n");
        var recorder = new Recorder();
        var two = tool.checkpoint(step(2, one.getCommit()), recorder.forCall("c2"));

        // Complete: an empty repository takes it, and it holds the new content.
        fetchIntoControlPlane(recorder.bundleBytes());
        assertThat(git(controlPlane, "cat-file", "blob", two.getCommit() + ":a.txt")).isEqualTo("b\n");
        assertThat(git(controlPlane, "rev-list", "--count", two.getCommit()).strip()).isEqualTo("1");
    }

    @Test
    void aRestoreOfACommitTheBundleLacksIsRefusedInWordsAndLeavesTheWorkspace() throws Exception {
        write("a.txt", "a\n");
        var recorder = new Recorder();
        tool.checkpoint(step(1, ""), recorder.forCall("c1"));
        var other = Files.createDirectory(temp.resolve("other-ws"));
        Files.writeString(other.resolve("mine.txt"), "keep");
        var restorer = new CheckpointTool(Workspace.open(other), temp.resolve("other-tmp/checkpoints"));
        var missing = "0123456789abcdef0123456789abcdef01234567";

        assertThatThrownBy(() -> restoreInChunks(restorer, recorder.bundleBytes(), missing, 1 << 20))
                .isInstanceOf(ToolException.class)
                .hasMessage("commit " + missing + " is not in the checkpoint bundle");
        assertThatThrownBy(() -> restoreInChunks(restorer, recorder.bundleBytes(), "HEAD", 1 << 20))
                .isInstanceOf(ToolException.class).hasMessage("'HEAD' is not a commit id");
        assertThatThrownBy(() -> restoreInChunks(restorer, "not a bundle at all".getBytes(UTF_8), missing, 1 << 20))
                .isInstanceOf(ToolException.class).hasMessageStartingWith("the checkpoint bundle is not a complete git bundle: ");
        assertThat(Files.readString(other.resolve("mine.txt"))).isEqualTo("keep");
    }

    @Test
    void aCheckpointOfANegativeStepOrOnABaseThatIsNoCommitIdIsRefused() {
        assertThatThrownBy(() -> tool.checkpoint(step(-1, ""), new Recorder().forCall("c")))
                .isInstanceOf(ToolException.class).hasMessage("checkpoint step -1 is negative");
        assertThatThrownBy(() -> tool.checkpoint(step(1, "--all"), new Recorder().forCall("c")))
                .isInstanceOf(ToolException.class).hasMessage("checkpoint base '--all' is not a commit id");
    }

    @Test
    void aRestoreChunkOutOfOrderIsRefused() throws Exception {
        tool.restore(RestoreAction.newBuilder().setOffset(0).setData(ByteString.copyFromUtf8("0123456789")).build());
        assertThatThrownBy(() -> tool.restore(RestoreAction.newBuilder().setOffset(20)
                .setData(ByteString.copyFromUtf8("x")).build()))
                .isInstanceOf(ToolException.class)
                .hasMessage("restore chunk at offset 20 does not follow the 10 bytes received");
        assertThatThrownBy(() -> new CheckpointTool(Workspace.open(root), temp.resolve("fresh")).restore(
                RestoreAction.newBuilder().setOffset(5).setData(ByteString.copyFromUtf8("x")).build()))
                .hasMessage("restore chunk at offset 5 does not follow the 0 bytes received");
    }

    @Test
    void aBundleWhoseTreeWritesThroughItsOwnLinkCannotWriteOutside() throws Exception {
        // A tree no checkpoint makes: a link 'evil' to a directory outside, then a file 'evil/x'.
        var outside = Files.createDirectory(temp.resolve("outside"));
        restoreForgedLinkBeside(outside, forged -> "100644 blob " + hashObject(forged, "pwned\n") + "\tx\n");

        assertThat(outside.resolve("x")).doesNotExist();
        try (var entries = Files.list(outside)) {
            assertThat(entries).isEmpty();
        }
    }

    @Test
    void aWorkspaceThatIsARepositoryComesBackWithItsHistoryBranchesTagsAndUncommittedWork() throws Exception {
        commit("README.md", "one\n", "first");
        commit("src/app.py", "print(1)\n", "second");
        git(root, "branch", "feature", "HEAD~1");
        git(root, "tag", "-a", "v1", "-m", "release one");
        // Packed refs leave refs/heads and refs/tags empty: git records no empty directory, a repository needs them.
        git(root, "pack-refs", "--all");
        write("README.md", "one\nchanged, not committed\n");
        write("scratch.txt", "untracked\n");
        var recorder = new Recorder();
        var recorded = tool.checkpoint(step(2, ""), recorder.forCall("c2"));
        fetchIntoControlPlane(recorder.bundleBytes());

        var other = Files.createDirectory(temp.resolve("other-ws"));
        var restorer = new CheckpointTool(Workspace.open(other), temp.resolve("other-tmp/checkpoints"));
        var restored = restoreInChunks(restorer, recorder.bundleBytes(), recorded.getCommit(), 64 * 1024);

        // Before any git command rewrites either index: every file and directory of .git, byte for byte.
        assertThat(describe(other)).isEqualTo(describe(root));
        assertThat(restored.getFiles()).isEqualTo(3);
        // Recorded again as restored, it is the same commit, with nothing to send.
        var again = restorer.checkpoint(step(3, recorded.getCommit()), new Recorder().forCall("c3"));
        assertThat(again.getCommit()).isEqualTo(recorded.getCommit());
        assertThat(again.getBundleBytes()).isZero();
        assertSameRepository(other, root);
        assertThat(git(other, "status", "--porcelain")).isEqualTo(" M README.md\n?? scratch.txt\n");
        assertThat(git(other, "tag", "-l", "-n")).contains("v1              release one");
    }

    @Test
    void aCloneAndAWorktreesDotGitFileInsideTheWorkspaceComeBackWorking() throws Exception {
        var upstream = temp.resolve("upstream.git");
        var seed = Files.createDirectory(temp.resolve("seed"));
        Files.writeString(seed.resolve("lib.c"), "int lib;\n");
        git(seed, "init", "--quiet");
        git(seed, "add", "lib.c");
        git(seed, "commit", "--quiet", "-m", "upstream");
        git(temp, "clone", "--quiet", "--bare", seed.toString(), upstream.toString());
        git(root, "clone", "--quiet", upstream.toString(), "deps/lib");
        write("deps/lib/lib.c", "int lib = 2;\n");
        git(root.resolve("deps/lib"), "worktree", "add", "--quiet", root.resolve("deps/lib-wip").toString());
        var recorder = new Recorder();
        var recorded = tool.checkpoint(step(1, ""), recorder.forCall("c1"));
        fetchIntoControlPlane(recorder.bundleBytes());
        assertThat(git(controlPlane, "cat-file", "-t", recorded.getCommit() + ":deps/lib/.nomad-shell-dotgit").strip())
                .isEqualTo("tree");
        assertThat(git(controlPlane, "cat-file", "-t", recorded.getCommit() + ":deps/lib-wip/.nomad-shell-dotgit").strip())
                .isEqualTo("blob");

        var other = Files.createDirectory(temp.resolve("other-ws"));
        var restorer = new CheckpointTool(Workspace.open(other), temp.resolve("other-tmp/checkpoints"));
        restoreInChunks(restorer, recorder.bundleBytes(), recorded.getCommit(), 1 << 20);

        assertThat(describe(other)).isEqualTo(describe(root));
        assertSameRepository(other.resolve("deps/lib"), root.resolve("deps/lib"));
        assertThat(git(other.resolve("deps/lib"), "status", "--porcelain")).isEqualTo(" M lib.c\n");
        assertThat(git(other.resolve("deps/lib"), "remote", "get-url", "origin").strip()).isEqualTo(upstream.toString());
    }

    @Test
    void aNewCommitInTheWorkspacesRepositorySendsOnlyTheChange() throws Exception {
        Files.write(root.resolve("data.bin"), randomBytes(300_000));
        git(root, "init", "--quiet");
        git(root, "add", "data.bin");
        git(root, "commit", "--quiet", "-m", "data");
        var first = new Recorder();
        var one = tool.checkpoint(step(1, ""), first.forCall("c1"));
        fetchIntoControlPlane(first.bundleBytes());

        commit("notes.txt", "a note\n", "note");
        var second = new Recorder();
        var two = tool.checkpoint(step(2, one.getCommit()), second.forCall("c2"));

        // The 300 kB file is in both the workspace and git's objects, each recorded once and never sent again.
        assertThat(one.getBundleBytes()).isGreaterThan(300_000);
        assertThat(two.getBundleBytes()).isPositive().isLessThan(10_000);
        fetchIntoControlPlane(second.bundleBytes());
        assertThat(git(controlPlane, "cat-file", "blob", two.getCommit() + ":.nomad-shell-dotgit/refs/heads/master").strip())
                .isEqualTo(git(root, "rev-parse", "HEAD").strip());
    }

    @Test
    void aWorkspaceHoldingTheStandInNameIsNotCheckpointedAndSaysWhy() throws Exception {
        write("notes/.nomad-shell-dotgit", "a user's own file by that name\n");

        assertThatThrownBy(() -> tool.checkpoint(step(1, ""), new Recorder().forCall("c1")))
                .isInstanceOf(ToolException.class)
                .hasMessage("the workspace holds 'notes/.nomad-shell-dotgit', a name checkpoints keep for recording"
                        + " .git directories; rename it (1 such entry) so the workspace can be checkpointed");
        assertThat(Files.readString(root.resolve("notes/.nomad-shell-dotgit"))).isEqualTo("a user's own file by that name\n");
    }

    @Test
    void theRepositorysConfigAndHooksRunNothingInTheDaemon() throws Exception {
        commit("a.txt", "a\n", "a");
        var marker = temp.resolve("ran");
        var config = Files.readString(root.resolve(".git/config")) + "[core]\n\tfsmonitor = \"touch " + marker + "\"\n"
                + "\thooksPath = hooks\n[alias]\n\tadd = !touch " + marker + "\n";
        Files.writeString(root.resolve(".git/config"), config);
        for (var hook : List.of("post-index-change", "pre-commit", "post-checkout", "reference-transaction")) {
            write(".git/hooks/" + hook, "#!/bin/sh\ntouch " + marker + "\n");
            Files.setPosixFilePermissions(root.resolve(".git/hooks/" + hook), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        var recorder = new Recorder();
        var recorded = tool.checkpoint(step(1, ""), recorder.forCall("c1"));
        var other = Files.createDirectory(temp.resolve("other-ws"));
        var restorer = new CheckpointTool(Workspace.open(other), temp.resolve("other-tmp/checkpoints"));
        restoreInChunks(restorer, recorder.bundleBytes(), recorded.getCommit(), 1 << 20);
        write("a.txt", "b\n");
        Files.writeString(other.resolve("a.txt"), "c\n");
        tool.checkpoint(step(2, recorded.getCommit()), new Recorder().forCall("c2"));
        restorer.checkpoint(step(2, recorded.getCommit()), new Recorder().forCall("c2"));

        assertThat(Files.readString(other.resolve(".git/config"))).isEqualTo(config);
        assertThat(other.resolve(".git/hooks/post-index-change")).isExecutable();
        assertThat(marker).doesNotExist();
    }

    @Test
    void aForgedStandInUnderALinkIsNotWrittenOutside() throws Exception {
        var outside = Files.createDirectory(temp.resolve("outside"));
        restoreForgedLinkBeside(outside, forged -> {
            var dotGit = mktree(forged, "100644 blob " + hashObject(forged, "ref: refs/heads/main\n") + "\tHEAD\n");
            return "040000 tree " + dotGit + "\t.nomad-shell-dotgit\n";
        });

        try (var entries = Files.list(outside)) {
            assertThat(entries).isEmpty();
        }
    }

    @Test
    void theDispatcherRunsCheckpointsWithTheCallsIdOnItsBundleChunks() throws Exception {
        write("a.txt", "a\n");
        var dispatcher = new ToolDispatcher(Workspace.open(root), TestTools.options(Files.createDirectory(temp.resolve("scratch"))));
        var recorder = new Recorder();
        var result = dispatcher.dispatch(ToolCall.newBuilder().setCallId("k")
                .setCheckpoint(step(1, "")).build(), recorder);

        assertThat(result.getError()).isEmpty();
        assertThat(result.getCheckpoint().getBundleBytes()).isEqualTo(recorder.bundleBytes().length);
        assertThat(recorder.events).isNotEmpty().allSatisfy(e -> assertThat(e.getCallId()).isEqualTo("k"));
        assertThat(temp.resolve("scratch/checkpoints/HEAD")).isRegularFile();
        assertThat(root.resolve(".git")).doesNotExist();
    }

    /** The tree of {@code commit} in the control plane's repository, without what stands for a .git. */
    private List<String> filesOutsideRepositories(String commit) throws Exception {
        return git(controlPlane, "ls-tree", "-r", "--format=%(objectmode) %(path)", commit).lines()
                .filter(line -> !line.contains(GitDirectoryStandIns.NAME)).toList();
    }

    /** {@code restored} is the repository {@code original} is: the same history, refs, working state, and sound. */
    private static void assertSameRepository(Path restored, Path original) throws Exception {
        for (var question : List.of(List.of("log", "--all", "--format=%H %P %D %s"), List.of("status", "--porcelain"),
                List.of("for-each-ref"), List.of("fsck", "--strict", "--no-dangling"))) {
            var arguments = question.toArray(String[]::new);
            assertThat(git(restored, arguments)).as("git %s", question).isEqualTo(git(original, arguments));
        }
        assertThat(git(restored, "rev-list", "--all", "--count").strip()).isNotEqualTo("0");
    }

    /** What {@link #restoreForgedLinkBeside} puts in the forged directory 'evil': a tree listing. */
    private interface Listing {
        String in(Path forged) throws Exception;
    }

    /**
     * Restores a tree no checkpoint makes: a link 'evil' to {@code outside}, beside a directory
     * 'evil' holding {@code inside}. Refusing it is as good as writing it inside.
     */
    private void restoreForgedLinkBeside(Path outside, Listing inside) throws Exception {
        var forged = temp.resolve("forged.git");
        git(temp, "init", "--quiet", "--bare", forged.toString());
        var target = hashObject(forged, outside.toString());
        var inner = mktree(forged, inside.in(forged));
        var tree = mktree(forged, "120000 blob " + target + "\tevil\n040000 tree " + inner + "\tevil\n");
        var commit = git(forged, "commit-tree", tree, "-m", "evil").strip();
        git(forged, "update-ref", "refs/heads/ckpt", commit);
        var bundle = temp.resolve("evil.bundle");
        git(forged, "bundle", "create", "--quiet", bundle.toString(), "refs/heads/ckpt");
        try {
            restoreInChunks(tool, Files.readAllBytes(bundle), commit, 1 << 20);
        } catch (ToolException refused) {
            // Nothing was written.
        }
    }

    private static CheckpointAction step(int step, String base) {
        return CheckpointAction.newBuilder().setStep(step).setBase(base).build();
    }

    private static RestoreResult restoreInChunks(CheckpointTool restorer, byte[] bundle, String commit, int chunk)
            throws Exception {
        RestoreResult result = null;
        for (int offset = 0; offset < bundle.length; offset += chunk) {
            int end = Math.min(bundle.length, offset + chunk);
            result = restorer.restore(RestoreAction.newBuilder().setOffset(offset)
                    .setData(ByteString.copyFrom(Arrays.copyOfRange(bundle, offset, end)))
                    .setLast(end == bundle.length).setCommit(commit).build());
        }
        return result;
    }

    private void fetchIntoControlPlane(byte[] bundle) throws Exception {
        var file = Files.write(Files.createTempFile(temp, "sent-", ".bundle"), bundle);
        git(controlPlane, "bundle", "verify", "--quiet", file.toString());
        git(controlPlane, "fetch", "--quiet", file.toString(), "+refs/heads/ckpt:refs/heads/job");
    }

    /** Writes {@code path} and commits it in the workspace's own repository, made if there is none. */
    private void commit(String path, String content, String message) throws Exception {
        write(path, content);
        if (!Files.exists(root.resolve(".git"))) {
            git(root, "init", "--quiet");
        }
        git(root, "add", path);
        git(root, "commit", "--quiet", "-m", message);
    }

    private void write(String path, String content) throws IOException {
        var file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    /** Every entry under {@code top}: type, execute bit, link target or a hash of the content. */
    private static Map<String, String> describe(Path top) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attributes) {
                entries.put(top.relativize(directory).toString(), "directory");
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                String name = top.relativize(file).toString();
                if (attributes.isSymbolicLink()) {
                    entries.put(name, "link to " + Files.readSymbolicLink(file));
                } else {
                    entries.put(name, (Files.isExecutable(file) ? "executable " : "file ") + sha256(Files.readAllBytes(file)));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        assertThat(entries).isNotEmpty();
        return entries;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] randomBytes(int size) {
        var bytes = new byte[size];
        new Random(42).nextBytes(bytes);
        return bytes;
    }

    private static String randomText(int size) {
        return HexFormat.of().formatHex(randomBytes(size / 2));
    }

    /** The git CLI with no system or user config, as the control plane would run it. */
    private static String git(Path directory, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("git", "-C", directory.toString()));
        command.addAll(List.of(arguments));
        var outcome = CommandRunner.runWithOnly(command, Map.of("PATH", System.getenv("PATH"),
                "GIT_CONFIG_NOSYSTEM", "1", "GIT_CONFIG_GLOBAL", "/dev/null", "HOME", directory.toString(),
                "GIT_AUTHOR_NAME", "t", "GIT_AUTHOR_EMAIL", "t@t", "GIT_COMMITTER_NAME", "t",
                "GIT_COMMITTER_EMAIL", "t@t"), Duration.ofMinutes(2));
        assertThat(outcome.exitCode()).as("git %s: %s", String.join(" ", arguments), outcome.stderr()).isZero();
        return outcome.stdoutText();
    }

    private String hashObject(Path repository, String content) throws Exception {
        var file = Files.writeString(Files.createTempFile(temp, "object-", ".txt"), content);
        return git(repository, "hash-object", "-w", file.toString()).strip();
    }

    /** git mktree, which reads the listing only from its input. */
    private String mktree(Path repository, String listing) throws Exception {
        var file = Files.writeString(Files.createTempFile(temp, "tree-", ".txt"), listing);
        return shell("git -C '" + repository + "' mktree < '" + file + "'").strip();
    }

    private static String shell(String script) throws Exception {
        var outcome = CommandRunner.runWithOnly(List.of("/bin/sh", "-c", script), Map.of("PATH", System.getenv("PATH"),
                "GIT_CONFIG_NOSYSTEM", "1", "GIT_CONFIG_GLOBAL", "/dev/null"), Duration.ofMinutes(2));
        assertThat(outcome.exitCode()).as("%s: %s", script, outcome.stderr()).isZero();
        return outcome.stdoutText();
    }
}
