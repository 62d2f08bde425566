package io.nomadshell.controlplane.artifact;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control plane's side of checkpoints, with real git: bundles in, bundles out, copies, refusals. */
class CheckpointRepositoryTest {
    @TempDir
    Path dir;

    @Test
    void keepsStepsFromFullAndIncrementalBundlesAndGivesThemBack() throws Exception {
        var store = new ArtifactStore(dir.resolve("artifacts"));
        var sandbox = new DaemonSide(dir.resolve("sandbox"));
        var repository = store.checkpoints("job-1");
        assertThat(repository.exists()).isFalse();

        sandbox.write("a.txt", "one\n");
        var first = sandbox.commit();
        repository.keep(1, first, sandbox.bundle(null));
        sandbox.write("b.txt", "two\n");
        var second = sandbox.commit();
        var incremental = sandbox.bundle(first);
        repository.keep(2, second, incremental);
        repository.keep(3, second, null);

        var out = dir.resolve("out.bundle");
        var toRestore = repository.bundle(3, out);
        var restored = new DaemonSide(dir.resolve("restored"));
        restored.git("fetch", "--quiet", out.toString(), "+refs/*:refs/restore/*");
        assertThat(restored.git("rev-parse", toRestore + "^{tree}")).isEqualTo(sandbox.git("rev-parse", second + "^{tree}"));
        assertThat(restored.git("rev-list", "--count", "--all")).as("one workspace, not the history").isEqualTo("1");
        restored.git("read-tree", "--reset", "-u", toRestore);
        assertThat(Files.readString(restored.work.resolve("a.txt"))).isEqualTo("one\n");
        assertThat(Files.readString(restored.work.resolve("b.txt"))).isEqualTo("two\n");

        var copy = store.checkpoints("job-2");
        repository.copyTo(copy);
        store.delete("job-1");
        assertThat(repository.exists()).isFalse();
        copy.bundle(2, dir.resolve("copy.bundle"));
        assertThat(Files.size(dir.resolve("copy.bundle"))).as("the copy outlives the original").isPositive();
    }

    @Test
    void refusesABundleThatIsNotWhatItWasSaidToBe() throws Exception {
        var repository = new ArtifactStore(dir.resolve("artifacts")).checkpoints("job-1");
        var sandbox = new DaemonSide(dir.resolve("sandbox"));
        sandbox.write("a.txt", "one\n");
        var commit = sandbox.commit();
        var bundle = sandbox.bundle(null);

        assertThatThrownBy(() -> repository.keep(1, "f".repeat(40), bundle))
                .hasMessageContaining("not the commit " + "f".repeat(40));
        assertThatThrownBy(() -> repository.keep(1, "--upload-pack=touch x", bundle)).hasMessageContaining("not a commit id");
        var junk = Files.writeString(dir.resolve("junk.bundle"), "# v2 git bundle\nnot really\n");
        assertThatThrownBy(() -> repository.keep(1, commit, junk)).hasMessageContaining("git fetch failed");
        assertThatThrownBy(() -> repository.keep(2, "e".repeat(40), null)).as("an unknown commit without a bundle")
                .hasMessageContaining("git rev-parse failed");
    }

    /** What the daemon does in its sandbox, reduced to the git commands. */
    private static final class DaemonSide {
        final Path work;
        final Path gitDir;

        DaemonSide(Path root) throws IOException, InterruptedException {
            this.work = Files.createDirectories(root.resolve("workspace"));
            this.gitDir = root.resolve("git");
            run(root, "git", "init", "--quiet", "--bare", gitDir.toString());
        }

        void write(String name, String text) throws IOException {
            Files.writeString(work.resolve(name), text);
        }

        String commit() throws IOException, InterruptedException {
            git("add", "--all", "--force", "--", ".");
            var tree = git("write-tree");
            var parent = git("rev-parse", "--verify", "--quiet", "refs/heads/ckpt^{commit}", "||", "true");
            var args = new ArrayList<>(List.of("commit-tree", tree, "-m", "step"));
            if (!parent.isEmpty()) {
                args.addAll(List.of("-p", parent));
            }
            var commit = git(args.toArray(String[]::new));
            git("update-ref", "refs/heads/ckpt", commit);
            return commit;
        }

        Path bundle(String base) throws IOException, InterruptedException {
            var file = Files.createTempFile(gitDir.getParent(), "ckpt", ".bundle");
            Files.delete(file);
            git("bundle", "create", "--quiet", file.toString(), base == null ? "refs/heads/ckpt" : base + "..refs/heads/ckpt");
            return file;
        }

        String git(String... args) throws IOException, InterruptedException {
            var argv = new ArrayList<>(List.of("git", "--git-dir=" + gitDir, "--work-tree=" + work,
                    "-c", "user.name=t", "-c", "user.email=t@t"));
            var tolerant = args.length > 1 && args[args.length - 2].equals("||");
            argv.addAll(List.of(args).subList(0, tolerant ? args.length - 2 : args.length));
            var process = new ProcessBuilder(argv).directory(work.toFile()).redirectErrorStream(true).start();
            var output = new String(process.getInputStream().readAllBytes(), UTF_8).strip();
            if (process.waitFor() != 0 && !tolerant) {
                throw new IOException(argv + ": " + output);
            }
            return process.exitValue() == 0 ? output : "";
        }

        private static void run(Path dir, String... argv) throws IOException, InterruptedException {
            Files.createDirectories(dir);
            var process = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            assertThat(process.waitFor()).isZero();
        }
    }
}
