package io.nomadshell.controlplane.artifact;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The checkpoints of one job on the control plane's side: a bare git repository beside its zip
 * ({@code <job id>.checkpoints.git}), where each step's commit is kept under {@code refs/steps/<step>}.
 * The sandbox's daemon records a step as a commit of a repository of its own and sends what this one
 * lacks as a git bundle. A bundle is untrusted input: git fetches a tree with {@code ..} or {@code .git}
 * entries with a warning only, so this side never writes a checkpoint's files; it only sends them back to a sandbox.
 * Restoring a step, in any later sandbox, sends a bundle of that step's history back.
 */
public final class CheckpointRepository {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");
    private static final long TIMEOUT_SECONDS = 300;

    private final Path repository;

    CheckpointRepository(Path repository) {
        this.repository = requireNonNull(repository, "repository");
    }

    /** Whether any checkpoint of the job is kept here. */
    public boolean exists() {
        return Files.isDirectory(repository);
    }

    /**
     * Keeps {@code commit} as the checkpoint of {@code step}: fetched from {@code bundle}, or, without one
     * (nothing changed since the commit the daemon was told this side holds), already here.
     *
     * @throws IOException when the bundle is not one, does not hold the commit, or the commit is not here
     */
    public void keep(int step, String commit, @Nullable Path bundle) throws IOException {
        if (!COMMIT.matcher(commit).matches()) {
            throw new IOException("'" + commit + "' is not a commit id");
        }
        if (!exists()) {
            Files.createDirectories(repository.getParent());
            git(repository.getParent(), "init", "--quiet", "--bare", repository.getFileName().toString());
        }
        var ref = "refs/steps/" + step;
        if (bundle != null) {
            git(repository, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", bundle.toString(),
                    "+refs/heads/ckpt:" + ref);
            var fetched = git(repository, "rev-parse", "--verify", ref + "^{commit}");
            if (!fetched.equals(commit)) {
                throw new IOException("the bundle holds " + fetched + ", not the commit " + commit + " it was said to");
            }
        } else {
            git(repository, "update-ref", ref, git(repository, "rev-parse", "--verify", commit + "^{commit}"));
        }
    }

    /**
     * Writes to {@code into} a bundle of the files of the checkpoint of {@code step}, alone: a commit of
     * its tree with no parent (kept as {@code refs/restores/<step>}), so a restore carries one
     * workspace, not the job's history. Returns that commit, the one a sandbox restores.
     */
    public String bundle(int step, Path into) throws IOException {
        var tree = git(repository, "rev-parse", "--verify", "refs/steps/" + step + "^{tree}");
        var commit = git(repository, "-c", "user.name=Nomad Shell", "-c", "user.email=checkpoints@nomad-shell.invalid",
                "commit-tree", tree, "-m", "step " + step + ", to restore");
        var ref = "refs/restores/" + step;
        git(repository, "update-ref", ref, commit);
        git(repository, "bundle", "create", "--quiet", into.toString(), ref);
        return commit;
    }

    /** A copy of every checkpoint here, as another job's (a fork); objects are shared by hard links. */
    public void copyTo(CheckpointRepository other) throws IOException {
        Files.createDirectories(other.repository.getParent());
        git(repository.getParent(), "clone", "--quiet", "--mirror", repository.toString(), other.repository.toString());
    }

    /** Removes every checkpoint of the job. */
    void delete() throws IOException {
        if (!exists()) {
            return;
        }
        try (var paths = Files.walk(repository)) {
            for (var path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }

    /**
     * Runs git in {@code directory} with no configuration but ours (none of the host's or a user's, no
     * hooks); returns its output, trimmed.
     */
    private static String git(Path directory, String... arguments) throws IOException {
        var argv = new ArrayList<>(List.of("git", "-c", "core.hooksPath=/dev/null",
                "-c", "gc.auto=0", "-c", "safe.directory=*"));
        argv.addAll(List.of(arguments));
        var builder = new ProcessBuilder(argv).directory(directory.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        var env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("GIT_"));
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        env.put("GIT_TERMINAL_PROMPT", "0");
        var process = builder.start();
        String output;
        try {
            output = new String(process.getInputStream().readAllBytes(), UTF_8).strip();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("git " + arguments[0] + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("git " + arguments[0] + " was interrupted", e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("git " + arguments[0] + " failed: " + (output.isEmpty() ? "exit " + process.exitValue() : output));
        }
        return output;
    }
}
