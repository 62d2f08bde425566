package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.proto.seed.SeedArchive;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.proto.seed.SeedRefusedException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a git repository into a job's seed archive, at Schedule, before the job exists, with the
 * {@code git} command: shallow where the ref allows, within the seed caps and a deadline, through a
 * {@link FetchProxy} that reaches only the repository's host at an address the egress rules allow.
 * Git runs with an environment of its own: no system or global config, no hooks, no prompts, no
 * protocols but http(s), no redirects, no submodules, no background maintenance. A credential goes
 * to git as an HTTP header in its environment ({@code GIT_CONFIG_*}), never on its command line or
 * into a file. The tree and its {@code .git} (whose remote holds the URL alone) are then packed as a
 * tar.gz and checked by {@link SeedArchive} like any upload.
 */
public final class Repositories {
    private static final Logger log = LoggerFactory.getLogger(Repositories.class);
    /** The most of git's output read, per stream. */
    private static final int MAX_OUTPUT = 1024 * 1024;
    /** Fetches at once per server: each holds a request thread and a few processes for up to the timeout. */
    static final int MAX_FETCHES = 8;
    /** Room for HTTP and pack framing beyond the bytes the seed may hold. */
    private static final long DOWNLOAD_OVERHEAD = 1024 * 1024;

    private final EgressDialer dialer;
    private final GitCredentials credentials;
    private final SeedLimits limits;
    private final Duration timeout;
    private final Path scratch;
    private final Semaphore fetching = new Semaphore(MAX_FETCHES);

    /**
     * @param scratch where repositories are fetched and packed, one temporary folder per fetch
     */
    public Repositories(EgressDialer dialer, GitCredentials credentials, SeedLimits limits, Duration timeout, Path scratch)
            throws IOException {
        this.dialer = requireNonNull(dialer, "dialer");
        this.credentials = requireNonNull(credentials, "credentials");
        this.limits = requireNonNull(limits, "limits");
        this.timeout = requireNonNull(timeout, "timeout");
        this.scratch = Files.createDirectories(requireNonNull(scratch, "scratch"));
        deleteLeftovers();
    }

    /**
     * Deletes what fetches of a server that stopped mid-fetch left; a fetch older than the timeout is
     * over, so another replica on the same folder loses nothing it still uses.
     */
    private void deleteLeftovers() throws IOException {
        var oldest = Instant.now().minus(timeout);
        try (var folders = Files.list(scratch)) {
            for (var folder : folders.toList()) {
                if (Files.getLastModifiedTime(folder).toInstant().isBefore(oldest)) {
                    deleteTree(folder);
                }
            }
        }
    }

    /** How long one fetch may take. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * Fetches {@code source} and writes it to {@code seed} as a tar.gz, within {@code diskBytes} (the
     * job's disk) and the seed caps.
     *
     * @throws JobException in words: INVALID_ARGUMENT (refused address, unreachable host, credentials
     *     needed or refused, a redirect), NOT_FOUND (no repository there, unknown ref), TOO_LARGE
     *     (past a cap), TIMED_OUT (past the deadline)
     */
    public SeedArchive.Summary fetch(GitSource source, long diskBytes, Path seed) {
        requireNonNull(source, "source");
        requireNonNull(seed, "seed");
        var within = limits.atMost(diskBytes);
        var credential = source.credential() != null ? source.credential() : credentials.forHost(source.host()).orElse(null);
        if (!fetching.tryAcquire()) {
            throw new JobException(Reason.UNAVAILABLE, "this server is fetching " + MAX_FETCHES
                    + " repositories already; try again in a moment");
        }
        Path folder = null;
        try (var proxy = new FetchProxy(dialer, source.host(), source.port(), within.maxBytes() + DOWNLOAD_OVERHEAD)) {
            folder = Files.createTempDirectory(scratch, "git-");
            var fetch = new Fetch(source, credential, proxy, folder, Instant.now().plus(timeout), within);
            var summary = fetch.into(seed);
            log.info("Fetched {} ({} files, {} bytes) as a seed", source, summary.files(), summary.bytes());
            return summary;
        } catch (IOException e) {
            throw new JobException(Reason.UNAVAILABLE, "the repository could not be fetched: " + e.getMessage());
        } finally {
            if (folder != null) {
                deleteTree(folder);
            }
            fetching.release();
        }
    }

    private static void deleteTree(Path folder) {
        try (Stream<Path> paths = Files.walk(folder)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            log.warn("Could not delete {}: {}", folder, e.toString());
        }
    }

    /** One fetch: its folder, its proxy, its deadline. */
    private final class Fetch {
        private final GitSource source;
        private final @Nullable BasicCredential credential;
        private final FetchProxy proxy;
        private final Path folder;
        private final Path repo;
        private final Instant deadline;
        private final SeedLimits within;

        Fetch(GitSource source, @Nullable BasicCredential credential, FetchProxy proxy, Path folder, Instant deadline,
                SeedLimits within) {
            this.source = source;
            this.credential = credential;
            this.proxy = proxy;
            this.folder = folder;
            this.repo = folder.resolve("repo");
            this.deadline = deadline;
            this.within = within;
        }

        SeedArchive.Summary into(Path seed) throws IOException {
            git("init", "--quiet", "--template=", repo.toString());
            git("-C", repo.toString(), "remote", "add", "origin", source.url());
            var target = target();
            fetch(target.refspec());
            var commit = git("-C", repo.toString(), "rev-parse", "--verify", "--end-of-options",
                    target.local() + "^{commit}").strip();
            checkSize(commit);
            if (target.branch() != null) {
                git("-C", repo.toString(), "checkout", "--quiet", "-b", target.branch(), "--track", target.local());
            } else {
                git("-C", repo.toString(), "checkout", "--quiet", "--detach", commit);
            }
            var packed = folder.resolve("seed.tar.gz");
            TreeArchive.write(repo, packed);
            try {
                var summary = SeedArchive.read(packed, within, SeedArchive.CHECK_ONLY);
                Files.move(packed, seed, StandardCopyOption.ATOMIC_MOVE);
                return summary;
            } catch (SeedRefusedException e) {
                throw new JobException(e.tooLarge() ? Reason.TOO_LARGE : Reason.INVALID_ARGUMENT,
                        "the repository " + source.url() + " cannot seed a workspace: " + e.getMessage());
            }
        }

        /** What to fetch for the ref, asking the remote what its names mean. */
        private Target target() throws IOException {
            if (source.refIsCommit()) {
                return new Target(source.ref(), "FETCH_HEAD", null);
            }
            if (source.ref().isEmpty()) {
                var heads = git("-C", repo.toString(), "ls-remote", "--symref", "origin", "HEAD");
                for (var line : heads.lines().toList()) {
                    if (line.startsWith("ref: refs/heads/") && line.endsWith("\tHEAD")) {
                        var branch = line.substring("ref: refs/heads/".length(), line.length() - "\tHEAD".length());
                        return Target.branch(branch);
                    }
                }
                if (heads.isBlank()) {
                    throw new JobException(Reason.NOT_FOUND, "the repository " + source.url() + " is empty");
                }
                return new Target("HEAD", "FETCH_HEAD", null);
            }
            var found = new LinkedHashMap<String, String>();
            git("-C", repo.toString(), "ls-remote", "origin", source.ref()).lines()
                    .map(line -> line.split("\t", 2))
                    .filter(fields -> fields.length == 2)
                    .forEach(fields -> found.put(fields[1], fields[0]));
            var ref = source.ref();
            for (var name : ref.startsWith("refs/") ? List.of(ref) : List.of("refs/heads/" + ref, "refs/tags/" + ref)) {
                if (found.containsKey(name)) {
                    return name.startsWith("refs/heads/") ? Target.branch(name.substring("refs/heads/".length()))
                            : new Target("+" + name + ":" + name, name, null);
                }
            }
            throw new JobException(Reason.NOT_FOUND, "the repository " + source.url() + " has no branch or tag '" + ref
                    + "'" + (source.refMayBeShortCommit() ? " (give a commit by its full 40-character id)" : ""));
        }

        private void fetch(String refspec) throws IOException {
            var shallow = run("-C", repo.toString(), "fetch", "--quiet", "--no-tags", "--no-recurse-submodules",
                    "--depth=1", "origin", refspec);
            if (shallow.exit() == 0) {
                return;
            }
            if (!shallow.stderr().contains("does not support shallow")) {
                throw explain(shallow.stderr());
            }
            // A dumb HTTP server has no shallow fetch: the whole history, still within the caps.
            git("-C", repo.toString(), "fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "origin", refspec);
        }

        /** Refuses a tree that would not fit before writing it: the pack's inflated blobs can be far larger than it. */
        private void checkSize(String commit) throws IOException {
            long bytes;
            long entries;
            try (var files = Files.walk(repo.resolve(".git"))) {
                var counted = files.filter(Files::isRegularFile).mapToLong(path -> path.toFile().length()).summaryStatistics();
                bytes = counted.getSum();
                entries = counted.getCount();
            }
            var tree = run("-C", repo.toString(), "ls-tree", "-r", "-t", "-l", "--full-tree", commit);
            if (tree.exit() != 0) {
                throw explain(tree.stderr());
            }
            try (var lines = Files.lines(tree.stdout())) {
                for (var line : (Iterable<String>) lines::iterator) {
                    var fields = line.split("\\s+", 5);
                    entries++;
                    if (fields.length == 5 && fields[1].equals("blob")) {
                        bytes += Long.parseLong(fields[3]);
                    }
                }
            }
            if (bytes > within.maxBytes() || entries > within.maxEntries()) {
                throw new JobException(Reason.TOO_LARGE, "the repository " + source.url() + " at "
                        + (source.ref().isEmpty() ? "its default branch" : source.ref()) + " holds " + entries
                        + " entries and " + bytes + " bytes with its .git, more than this job may be seeded with ("
                        + within.maxEntries() + " entries, " + within.maxBytes() + " bytes; --seed-max-mb, "
                        + "--seed-max-entries and the job's disk_mb)");
            }
        }

        /** Runs git in its own environment; its standard output, or a {@link JobException} in words. */
        private String git(String... args) throws IOException {
            var ran = run(args);
            if (ran.exit() != 0) {
                throw explain(ran.stderr());
            }
            return read(ran.stdout());
        }

        /** Runs git in its own environment, within the deadline. */
        private Ran run(String... args) throws IOException {
            var command = new ArrayList<String>();
            command.add("git");
            command.addAll(List.of(args));
            var out = folder.resolve("git.out");
            var err = folder.resolve("git.err");
            var builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().clear();
            builder.environment().putAll(environment());
            var process = builder.start();
            try {
                var left = Duration.between(Instant.now(), deadline);
                if (left.isNegative() || !process.waitFor(left.toMillis(), TimeUnit.MILLISECONDS)) {
                    kill(process);
                    throw new JobException(Reason.TIMED_OUT, "fetching " + source.url() + " took longer than "
                            + timeout.toSeconds() + " s, the most this server allows (--seed-fetch-timeout)");
                }
            } catch (InterruptedException e) {
                kill(process);
                Thread.currentThread().interrupt();
                throw new JobException(Reason.UNAVAILABLE, "the server stopped while fetching " + source.url());
            }
            return new Ran(process.exitValue(), out, read(err));
        }

        private static void kill(Process process) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }

        private static String read(Path file) throws IOException {
            try (var in = Files.newInputStream(file)) {
                return new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
            }
        }

        private Map<String, String> environment() {
            var env = new LinkedHashMap<String, String>();
            env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            env.put("HOME", folder.toString());
            env.put("LC_ALL", "C");
            env.put("GIT_CONFIG_NOSYSTEM", "1");
            env.put("GIT_CONFIG_GLOBAL", "/dev/null");
            env.put("GIT_TERMINAL_PROMPT", "0");
            env.put("GIT_CEILING_DIRECTORIES", folder.toString());
            var config = new ArrayList<>(List.of(
                    "protocol.allow", "never",
                    "protocol.https.allow", "always",
                    "protocol.http.allow", "always",
                    "http.proxy", proxy.url(),
                    "http.followRedirects", "false",
                    "core.hooksPath", "/dev/null",
                    "core.askPass", "",
                    "credential.helper", "",
                    "submodule.recurse", "false",
                    "fetch.recurseSubmodules", "false",
                    "gc.auto", "0",
                    "maintenance.auto", "false",
                    "init.defaultBranch", "main",
                    "advice.detachedHead", "false",
                    "user.name", "nomad-shell",
                    "user.email", "nomad-shell@localhost"));
            if (credential != null) {
                config.addAll(List.of("http.extraHeader", credential.header()));
            }
            env.put("GIT_CONFIG_COUNT", Integer.toString(config.size() / 2));
            for (int i = 0; i < config.size() / 2; i++) {
                env.put("GIT_CONFIG_KEY_" + i, config.get(2 * i));
                env.put("GIT_CONFIG_VALUE_" + i, config.get(2 * i + 1));
            }
            return env;
        }

        /** What git's failure means for the person who asked, from the proxy's view and git's last words. */
        private JobException explain(String stderr) {
            if (proxy.tooLarge()) {
                return new JobException(Reason.TOO_LARGE, "the repository " + source.url() + " is larger than "
                        + within.maxBytes() + " bytes, the most this job may be seeded with (--seed-max-mb and the "
                        + "job's disk_mb)");
            }
            if (proxy.refusal().isPresent()) {
                return new JobException(Reason.INVALID_ARGUMENT, "the repository " + source.url() + " cannot be fetched: "
                        + proxy.refusal().get());
            }
            if (stderr.contains("terminal prompts disabled") || stderr.contains("Authentication failed")
                    || stderr.contains("returned error: 401") || stderr.contains("returned error: 403")) {
                return new JobException(Reason.INVALID_ARGUMENT, credential == null
                        ? "the repository " + source.url() + " needs credentials: give seed.git.credential "
                                + "(a username and a password or token)"
                        : "the repository " + source.url() + " refused the credential given for it");
            }
            if (stderr.contains("returned error: 404") || stderr.contains("not found")
                    || stderr.contains("not appear to be a git repository")) {
                return new JobException(Reason.NOT_FOUND, "there is no git repository at " + source.url());
            }
            if (stderr.contains("returned error: 30")) {
                return new JobException(Reason.INVALID_ARGUMENT, "the server at " + source.url()
                        + " redirects elsewhere; redirects are not followed: give the repository's own URL");
            }
            if (stderr.contains("couldn't find remote ref") || stderr.contains("not our ref")) {
                return new JobException(Reason.NOT_FOUND, "the repository " + source.url() + " has no commit or ref '"
                        + source.ref() + "'");
            }
            var last = stderr.strip().lines().reduce((first, second) -> second).orElse("no reason given")
                    .replaceFirst("^(fatal|error): ", "");
            return new JobException(Reason.INVALID_ARGUMENT, "git could not fetch " + source.url() + ": " + last);
        }
    }

    /**
     * What to fetch and check out: a refspec, the local name it lands under, and the branch to
     * create (null: a detached checkout).
     */
    private record Target(String refspec, String local, @Nullable String branch) {
        static Target branch(String name) {
            return new Target("+refs/heads/" + name + ":refs/remotes/origin/" + name, "refs/remotes/origin/" + name, name);
        }
    }

    /** How a git command ended: its exit code, where its output is, and what it said on stderr. */
    private record Ran(int exit, Path stdout, String stderr) {}
}
