package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.Range;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.sync.RedisCommands;
import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.seed.GitCredentials;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A job's workspace seeded from a git repository served on 127.0.0.1 (git's smart HTTP through
 * {@code git http-backend}): the first step, in a real bubblewrap sandbox, sees exactly the files at
 * the ref asked for, with a .git whose origin is the URL and nothing uncommitted. A private
 * repository is fetched with a per-job credential, which then appears nowhere: not in the workspace
 * (its .git included), not in the job's Redis keys, not in the server's log, not in the sandbox's
 * environment. Unsafe URLs and refs, addresses the egress rules refuse, unknown refs, repositories
 * past the caps and a fetch past its time are refused before any job exists, in words.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GitSeedTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER = "reader";
    private static final String PASSWORD = "pw-7f3c9a1e-never-to-be-seen";
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(20);

    private ScriptedModelServer model;
    private EmbeddedRedis redis;
    private RedisConnection connection;
    private TestCluster cluster;
    private GitHttpServer open;
    private GitHttpServer locked;
    private HttpServer silent;
    private HttpServer redirecting;
    private final CountDownLatch silentRelease = new CountDownLatch(1);
    private Path dataDir;
    private Path temp;
    private String firstCommit;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        temp = tmp;
        var repos = Files.createDirectories(tmp.resolve("repos"));
        firstCommit = project(tmp.resolve("work"), repos.resolve("project.git"));
        big(tmp.resolve("big-work"), repos.resolve("big.git"));
        var privateRepos = Files.createDirectories(tmp.resolve("private"));
        project(tmp.resolve("private-work"), privateRepos.resolve("secret.git"));
        open = new GitHttpServer(repos, null, null);
        locked = new GitHttpServer(privateRepos, USER, PASSWORD);
        silent = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        silent.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        silent.createContext("/", exchange -> {
            try {
                silentRelease.await(); // answers nothing until the test ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        silent.start();
        redirecting = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        redirecting.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Location", open.url("project.git") + "/info/refs?service=git-upload-pack");
            exchange.sendResponseHeaders(301, -1);
            exchange.close();
        });
        redirecting.start();

        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "git-seed-test");
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("git-listing", tmp, "")).build().start();
        dataDir = tmp.resolve("server").toAbsolutePath();
        // 127.0.0.0/8 is allowed although loopback (the test's git servers live there); ::1 is not.
        var egress = EgressPolicy.parse("", "127.0.0.0/8");
        var operatorCredentials = GitCredentials.read(Files.writeString(tmp.resolve("git-credentials"),
                "# the operator's: for this host name only\nlocalhost " + USER + ":" + PASSWORD + "\n"));
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2, ApiKeys.of(Set.of("k1", "k2")),
                options -> options.redisUrl(redis.url())
                        .seedLimits(new SeedLimits(1024 * 1024, 200))
                        .seedFetchTimeout(FETCH_TIMEOUT)
                        .gitCredentials(operatorCredentials)
                        .resources(new ResourcePolicy(ResourcePolicy.DEFAULT.defaults(), ResourcePolicy.DEFAULT.maxCpuMhz(),
                                ResourcePolicy.DEFAULT.minMemoryMb(), ResourcePolicy.DEFAULT.maxMemoryMb(),
                                ResourcePolicy.DEFAULT.maxTimeout(), egress)));
    }

    @AfterAll
    void stop() {
        silentRelease.countDown();
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        if (connection != null) connection.close();
        if (redis != null) redis.close();
        if (open != null) open.close();
        if (locked != null) locked.close();
        if (silent != null) silent.stop(0);
        if (redirecting != null) redirecting.stop(0);
    }

    @Test
    void theDefaultBranchSeedsExactlyItsFiles() throws Exception {
        var listing = seededListing(open.url("project.git"), "", "default branch");
        assertThat(listing).contains("files: ./README.md ./run.sh ./src/main.py |head: main|origin: "
                + open.url("project.git") + "|changed: 0|log: renamed,|");
    }

    @Test
    void aBranchSeedsThatBranchShallowAndATagOrCommitIdItsCommit() throws Exception {
        var feature = seededListing(open.url("project.git"), "feature", "feature branch");
        // run.sh is gone on the branch, docs/guide.md new; only the tip was fetched.
        assertThat(feature).contains("files: ./README.md ./docs/guide.md ./src/app.py |head: feature|origin: "
                + open.url("project.git") + "|changed: 0|log: second,|");
        var tag = seededListing(open.url("project.git"), "v1", "tag");
        assertThat(tag).contains("files: ./README.md ./run.sh ./src/app.py |head: HEAD|");
        // The first commit by its id: no longer any branch's tip.
        var commit = seededListing(open.url("project.git"), firstCommit, "commit id");
        assertThat(commit).contains("files: ./README.md ./run.sh ./src/app.py |head: HEAD|").contains("|log: first,|");
    }

    @Test
    void aPrivateRepositoryNeedsItsCredentialWhichIsNeverKept() throws Exception {
        var url = locked.url("secret.git");
        var rest = cluster.rest("k1");
        var without = schedule(rest, gitSeed(url, "", null), "no credential");
        assertThat(without.statusCode()).as(without.body()).isEqualTo(400);
        assertThat(without.body()).contains("the repository " + url + " needs credentials");
        var wrong = schedule(rest, gitSeed(url, "", "not-the-password"), "wrong credential");
        assertThat(wrong.statusCode()).as(wrong.body()).isEqualTo(400);
        assertThat(wrong.body()).contains("refused the credential given");

        var log = captureLog();
        String id;
        String listing;
        try {
            var scheduled = schedule(rest, gitSeed(url, "", PASSWORD), "private repository");
            assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(200);
            id = JSON.readTree(scheduled.body()).path("job_id").asText();
            var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();
            assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
            listing = toolOutputOf("private repository");
            // The operator's credential for "localhost" serves a job that brings none (127.0.0.1 had none above).
            var byOperator = schedule(rest, gitSeed(url.replace("127.0.0.1", "localhost"), "", null), "operator credential");
            assertThat(byOperator.statusCode()).as(byOperator.body()).isEqualTo(200);
            var operatorJob = rest.awaitEnd(JSON.readTree(byOperator.body()).path("job_id").asText(), Duration.ofSeconds(120)).last();
            assertThat(operatorJob.path("status").asText()).as("job %s", operatorJob).isEqualTo("complete");
            assertThat(toolOutputOf("operator credential")).contains("files: ./README.md ./run.sh ./src/main.py |");
        } finally {
            detach(log);
        }
        var header = Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(UTF_8));
        assertThat(locked.authorizations()).as("the credential was sent to the repository's host")
                .contains("Basic " + header);
        assertThat(listing).contains("files: ./README.md ./run.sh ./src/main.py |head: main|origin: " + url + "|")
                .contains("|authorization: 0|env: 0|");

        var secrets = List.of(PASSWORD, header);
        var zip = rest.getBytes("/download/" + id).body();
        var workspace = unzipBytes(zip);
        assertThat(workspace.keySet()).as("the workspace as delivered, .git included").contains(".git/config", "README.md");
        workspace.forEach((name, bytes) -> assertThat(new String(bytes, ISO_8859_1)).as("workspace file %s", name)
                .doesNotContain(secrets));
        var stored = everythingIn(connection.commands());
        assertThat(stored).as("what Redis holds").contains(id).doesNotContain(secrets);
        var logged = log.list.stream().map(event -> event.getFormattedMessage() + " "
                + (event.getThrowableProxy() == null ? "" : event.getThrowableProxy().getMessage())).toList();
        assertThat(logged).as("the server's log while the job ran").isNotEmpty()
                .allSatisfy(line -> assertThat(line).doesNotContain(secrets));
    }

    @Test
    void unsafeSourcesAreRefusedInWordsAndMakeNoJob() throws Exception {
        var rest = cluster.rest("k2");
        var url = open.url("project.git");
        refused(rest, gitSeed("file://" + temp.resolve("repos/project.git"), "", null), 400, "git URLs of the kind file are refused");
        refused(rest, gitSeed("ssh://git@127.0.0.1/project.git", "", null), 400, "git URLs of the kind ssh are refused");
        refused(rest, gitSeed("git@127.0.0.1:project.git", "", null), 400, "ssh (user@host:path)");
        refused(rest, gitSeed("ext::sh -c touch% /tmp/pwned", "", null), 400, "spaces or control characters");
        refused(rest, gitSeed("ext::sh", "", null), 400, "git URLs of the kind ext:: are refused");
        refused(rest, gitSeed(temp.resolve("repos/project.git").toString(), "", null), 400, "local paths are refused");
        refused(rest, gitSeed("-uhttp://127.0.0.1/x", "", null), 400, "starts with '-'");
        refused(rest, gitSeed("http://user:pw@127.0.0.1/x.git", "", null), 400, "may not hold a user or password");
        refused(rest, gitSeed(url, "--upload-pack=touch", null), 400, "starts with '-'");
        refused(rest, gitSeed(url, "main..feature", null), 400, "is not a branch or tag name");
        // The egress rules: the cloud metadata address, and ::1 (loopback, outside the allowed 127.0.0.0/8).
        refused(rest, gitSeed("http://169.254.169.254/latest.git", "", null), 400, "cloud metadata address");
        refused(rest, gitSeed(url.replace("127.0.0.1", "[::1]"), "", null), 400, "resolves to a loopback address");
        int closed;
        try (var socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        refused(rest, gitSeed("http://127.0.0.1:" + closed + "/gone.git", "", null), 400,
                "egress to 127.0.0.1:" + closed + " failed: Connection refused");
        refused(rest, gitSeed("http://127.0.0.1:" + redirecting.getAddress().getPort() + "/moved.git", "", null), 400,
                "redirects elsewhere; redirects are not followed");
        refused(rest, gitSeed(url, "no-such-branch", null), 404, "has no branch or tag 'no-such-branch'");
        refused(rest, gitSeed(url, "abc1234", null), 404, "full 40-character id");
        refused(rest, gitSeed(open.url("nothing-here.git"), "", null), 404, "there is no git repository at");
        // Random bytes do not compress: the download passes the 1 MiB cap. Zeros do, but unpack past it.
        refused(rest, gitSeed(open.url("big.git"), "noise", null), 413, "the most this job may be seeded with");
        refused(rest, gitSeed(open.url("big.git"), "zeros", null), 413, "more than this job may be seeded with");
        var both = JSON.createObjectNode();
        both.put("upload_id", "up-000000000000000000000000").set("git", gitSeed(url, "", null).get("git"));
        refused(rest, both, 400, "give one of upload_id and git");

        assertThat(JSON.readTree(rest.get("/v1/jobs").body()).path("jobs")).as("k2's jobs").isEmpty();
        assertThat(leftovers()).as("fetches and seeds left on disk").isEmpty();
    }

    @Test
    void aFetchPastItsTimeIsRefusedAndLeavesNothing() throws Exception {
        var rest = cluster.rest("k2");
        long started = System.nanoTime();
        refused(rest, gitSeed("http://127.0.0.1:" + silent.getAddress().getPort() + "/slow.git", "", null), 504,
                "took longer than 20 s");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(FETCH_TIMEOUT);
        assertThat(leftovers()).as("fetches and seeds left on disk").isEmpty();
        assertThat(gitProcesses()).as("git processes left running").isEmpty();
    }

    @Test
    void theCliSeedsAJobFromARepository(@TempDir Path dir) throws Exception {
        var zip = dir.resolve("out.zip");
        var run = Cli.run(dir, "run", "--server", "127.0.0.1:" + cluster.port(), "--api-key", "k1",
                "--repo", open.url("project.git"), "--ref", "feature", "-o", zip.toString(), "List the repository (cli)");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(Fixtures.unzip(Files.readAllBytes(zip))).containsKeys("README.md", "docs/guide.md", "src/app.py")
                .doesNotContainKey("run.sh");

        var refused = Cli.run(dir, "run", "--server", "127.0.0.1:" + cluster.port(), "--api-key", "k1",
                "--repo", "file:///etc", "t");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("git URLs of the kind file are refused").doesNotContain("Exception");
    }

    /** Schedules a job seeded from {@code url} at {@code ref} and answers its first exec's output. */
    private String seededListing(String url, String ref, String label) throws Exception {
        var rest = cluster.rest("k1");
        var scheduled = schedule(rest, gitSeed(url, ref, null), label);
        assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(200);
        var id = JSON.readTree(scheduled.body()).path("job_id").asText();
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        return toolOutputOf(label);
    }

    private static java.net.http.HttpResponse<String> schedule(Rest rest, ObjectNode seed, String label) {
        var body = JSON.createObjectNode().put("task", "List the repository (" + label + ")");
        body.set("seed", seed);
        return rest.post("/v1/jobs", "application/json", body.toString());
    }

    private static ObjectNode gitSeed(String url, String ref, String password) {
        var git = JSON.createObjectNode().put("url", url).put("ref", ref);
        if (password != null) {
            git.set("credential", JSON.createObjectNode().put("username", USER).put("password", password));
        }
        var seed = JSON.createObjectNode();
        seed.set("git", git);
        return seed;
    }

    private static void refused(Rest rest, ObjectNode seed, int status, String words) {
        var response = schedule(rest, seed, "refused");
        assertThat(response.statusCode()).as("%s → %s", seed, response.body()).isEqualTo(status);
        assertThat(response.body()).as("%s", seed).contains(words).doesNotContain("Exception");
    }

    /** The first tool output of the job whose task names {@code label}, as the model received it. */
    private String toolOutputOf(String label) {
        for (JsonNode request : model.receivedRequests()) {
            var messages = request.path("messages");
            boolean ours = false;
            for (JsonNode message : messages) {
                ours |= message.path("role").asText().equals("user")
                        && message.path("content").toString().contains("(" + label + ")");
                if (ours && message.path("role").asText().equals("tool")) {
                    var content = message.path("content");
                    return content.isTextual() ? content.asText() : content.toString();
                }
            }
        }
        throw new AssertionError("no tool output for the job '" + label + "' in " + model.receivedRequests());
    }

    private List<Path> leftovers() throws IOException {
        var found = new ArrayList<Path>();
        var fetches = dataDir.resolve("artifacts").resolve("git-fetches");
        if (Files.isDirectory(fetches)) {
            try (var files = Files.list(fetches)) {
                files.forEach(found::add);
            }
        }
        try (var files = Files.list(dataDir.resolve("artifacts"))) {
            files.filter(path -> path.getFileName().toString().endsWith(".seed")).forEach(found::add);
        }
        return found;
    }

    private static List<String> gitProcesses() {
        return ProcessHandle.current().descendants()
                .map(process -> process.info().commandLine().orElse(""))
                .filter(command -> command.contains("git") && command.contains("slow.git"))
                .toList();
    }

    private static ListAppender<ILoggingEvent> captureLog() {
        var root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        var appender = new ListAppender<ILoggingEvent>();
        appender.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        appender.start();
        root.addAppender(appender);
        // What a server logs by default: INFO and above (the tests' own config shows only WARN).
        root.setLevel(Level.INFO);
        return appender;
    }

    private static void detach(ListAppender<ILoggingEvent> appender) {
        var root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.detachAppender(appender);
    }

    /** Every key and value Redis holds, as text. */
    private static String everythingIn(RedisCommands<String, String> redis) {
        var text = new StringBuilder();
        ScanCursor cursor = ScanCursor.INITIAL;
        for (int round = 0; round < 10_000 && !cursor.isFinished(); round++) {
            KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.limit(1000));
            for (var key : page.getKeys()) {
                text.append(key).append('\n');
                switch (redis.type(key)) {
                    case "string" -> text.append(redis.get(key));
                    case "hash" -> text.append(redis.hgetall(key));
                    case "list" -> text.append(redis.lrange(key, 0, -1));
                    case "set" -> text.append(redis.smembers(key));
                    case "zset" -> text.append(redis.zrange(key, 0, -1));
                    case "stream" -> redis.xrange(key, Range.create("-", "+")).forEach(m -> text.append(m.getBody()));
                    default -> text.append("(type ").append(redis.type(key)).append(')');
                }
                text.append('\n');
            }
            cursor = page;
        }
        return text.toString();
    }

    private static Map<String, byte[]> unzipBytes(byte[] zip) throws IOException {
        var files = new LinkedHashMap<String, byte[]>();
        try (var in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (var entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                if (!entry.isDirectory()) {
                    files.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return files;
    }

    /**
     * main: README.md, run.sh (executable), src/app.py, tagged v1; feature: run.sh gone, docs/guide.md
     * added; then main moves on. Answers the id of main's first commit.
     */
    private static String project(Path work, Path bare) throws Exception {
        git(work.getParent(), "init", "--quiet", "-b", "main", work.toString());
        Files.writeString(work.resolve("README.md"), "# project\n");
        Files.writeString(work.resolve("run.sh"), "#!/bin/sh\necho run\n");
        work.resolve("run.sh").toFile().setExecutable(true);
        Files.createDirectories(work.resolve("src"));
        Files.writeString(work.resolve("src/app.py"), "print('app')\n");
        git(work, "add", "-A");
        git(work, "commit", "--quiet", "-m", "first");
        git(work, "tag", "v1");
        git(work, "checkout", "--quiet", "-b", "feature");
        git(work, "rm", "--quiet", "run.sh");
        Files.createDirectories(work.resolve("docs"));
        Files.writeString(work.resolve("docs/guide.md"), "# guide\n");
        git(work, "add", "-A");
        git(work, "commit", "--quiet", "-m", "second");
        git(work, "checkout", "--quiet", "main");
        var first = git(work, "rev-parse", "HEAD").strip();
        git(work, "mv", "src/app.py", "src/main.py");
        git(work, "commit", "--quiet", "-m", "renamed");
        git(work.getParent(), "clone", "--quiet", "--bare", work.toString(), bare.toString());
        return first;
    }

    /** Branch noise: 3 MiB of random bytes; branch zeros: 3 MiB of zeros (a few KiB packed). */
    private static void big(Path work, Path bare) throws Exception {
        git(work.getParent(), "init", "--quiet", "-b", "noise", work.toString());
        var noise = new byte[3 * 1024 * 1024];
        new Random(15).nextBytes(noise);
        Files.write(work.resolve("noise.bin"), noise);
        git(work, "add", "-A");
        git(work, "commit", "--quiet", "-m", "noise");
        git(work, "checkout", "--quiet", "--orphan", "zeros");
        git(work, "rm", "--quiet", "-r", "--cached", ".");
        Files.delete(work.resolve("noise.bin"));
        Files.write(work.resolve("zeros.bin"), new byte[3 * 1024 * 1024]);
        git(work, "add", "-A");
        git(work, "commit", "--quiet", "-m", "zeros");
        git(work.getParent(), "clone", "--quiet", "--bare", work.toString(), bare.toString());
    }

    private static String git(Path dir, String... args) throws Exception {
        var command = new ArrayList<>(List.of("git", "-c", "user.name=test", "-c", "user.email=test@localhost",
                "-c", "init.defaultBranch=main"));
        command.addAll(List.of(args));
        var process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        var output = new String(process.getInputStream().readAllBytes(), UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("git " + String.join(" ", args) + ": " + output);
        }
        return output;
    }
}
