package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * The real Nomad cluster (a server and two clients, ACLs on) and Docker engine that
 * {@code testbed/nomad-testbed.sh start} runs, and the sandbox image built from this build's agent
 * daemon. Without them the tests fail under CI ({@code CI=true}) and are skipped elsewhere. Every
 * call carries the testbed's management token: {@code NOMAD_TOKEN}, or the file the testbed wrote
 * it to ({@code $NOMAD_SHELL_TESTBED_DIR/nomad-management.token}).
 */
final class NomadTestbed {
    static final URI NOMAD = URI.create(System.getenv().getOrDefault("NOMAD_ADDR", "http://127.0.0.1:4646"));
    /** The management token; null for a Nomad without ACLs. */
    static final @Nullable String TOKEN = token();
    static final String IMAGE = "nomad-shell-sandbox:e2e";
    static final String DEFAULT_NAMESPACE = "default";
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static boolean imageBuilt;

    private NomadTestbed() {}

    private static @Nullable String token() {
        var token = System.getenv("NOMAD_TOKEN");
        if (token != null && !token.isBlank()) {
            return token.strip();
        }
        var file = stateDir().resolve("nomad-management.token");
        try {
            return Files.isReadable(file) ? Files.readString(file).strip() : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The testbed's network for sandboxes in Nomad's bridge mode: the Attach address they dial
     * (carried to 127.0.0.1 on the same port by the testbed's firewall) and each client's bridge.
     *
     * @param bridges the bridge of testbed client 1, then 2
     */
    record SandboxNetwork(InetSocketAddress attach, List<String> bridges) {}

    /** What the testbed wrote to {@code $NOMAD_SHELL_TESTBED_DIR/sandbox-network} at start. */
    static SandboxNetwork sandboxNetwork() throws IOException {
        var file = stateDir().resolve("sandbox-network");
        if (!Files.isReadable(file)) {
            throw new IOException(file + " is missing: start the testbed again (testbed/nomad-testbed.sh start-nomad)");
        }
        var values = new Properties();
        try (var in = Files.newBufferedReader(file)) {
            values.load(in);
        }
        var attach = values.getProperty("attach");
        var colon = attach.lastIndexOf(':');
        return new SandboxNetwork(
                InetSocketAddress.createUnresolved(attach.substring(0, colon), Integer.parseInt(attach.substring(colon + 1))),
                List.of(values.getProperty("bridge.1"), values.getProperty("bridge.2")));
    }

    private static Path stateDir() {
        return Path.of(System.getenv().getOrDefault("NOMAD_SHELL_TESTBED_DIR", "/var/lib/nomad-shell-testbed"));
    }

    /** The testbed's script ({@code testbed/nomad-testbed.sh}) with {@code arguments}, as the tests' environment says. */
    static Result script(Duration timeout, String... arguments) throws IOException {
        var command = new ArrayList<String>(List.of("bash", projectDir().resolve("testbed/nomad-testbed.sh").toString()));
        command.addAll(List.of(arguments));
        return run(command, timeout);
    }

    private static Path projectDir() {
        return Path.of(System.getProperty("nomadshell.projectDir", "..")).toAbsolutePath().normalize();
    }

    /** A request to the Nomad API at {@code pathAndQuery} with {@code token} (none when null). */
    static HttpRequest.Builder request(String pathAndQuery, @Nullable String token) {
        var request = HttpRequest.newBuilder(URI.create(NOMAD + pathAndQuery)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            request.header("X-Nomad-Token", token);
        }
        return request;
    }

    static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Checks the agent and the engine answer, and builds the sandbox image once per test JVM. */
    static synchronized void require() throws Exception {
        var missing = missing();
        if (missing != null) {
            var message = missing + " (start them with testbed/nomad-testbed.sh start)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        if (!imageBuilt) {
            buildImage();
            imageBuilt = true;
        }
    }

    private static String missing() {
        try {
            var leader = HTTP.send(HttpRequest.newBuilder(NOMAD.resolve("/v1/status/leader"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (leader.statusCode() != 200) {
                return "the Nomad agent at " + NOMAD + " answered " + leader.statusCode();
            }
        } catch (IOException e) {
            return "no Nomad agent at " + NOMAD;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        try {
            return run(List.of("docker", "info"), Duration.ofSeconds(30)).exit() == 0 ? null : "the Docker engine does not answer";
        } catch (IOException e) {
            return "no docker command";
        }
    }

    private static void buildImage() throws IOException {
        var project = projectDir();
        var jar = Path.of(System.getProperty("nomadshell.daemonJar")).toAbsolutePath().normalize();
        var result = run(List.of("bash", project.resolve("sandbox-image/build.sh").toString(),
                "--jar", jar.toString(), "--tag", IMAGE), Duration.ofMinutes(10));
        assertThat(result.exit()).as("sandbox-image/build.sh: %s", result.output()).isZero();
    }

    /** GET a Nomad API path as JSON; null when Nomad answers 404. */
    static JsonNode get(String pathAndQuery) throws IOException, InterruptedException {
        var response = send(request(pathAndQuery, TOKEN).build());
        if (response.statusCode() == 404) {
            return null;
        }
        assertThat(response.statusCode()).as("GET %s: %s", pathAndQuery, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** Whether a GET of {@code pathAndQuery} answers 404 within {@code timeout} (polled). */
    static boolean awaitGone(String pathAndQuery, Duration timeout) throws IOException, InterruptedException {
        var deadline = System.nanoTime() + timeout.toNanos();
        while (get(pathAndQuery) != null) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(250);
        }
        return true;
    }

    static void delete(String pathAndQuery) throws IOException, InterruptedException {
        send(request(pathAndQuery, TOKEN).DELETE().build());
    }

    /** PUT a JSON body to a Nomad API path. */
    static void put(String path, JsonNode body) throws IOException, InterruptedException {
        var response = send(request(path, TOKEN).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body.toString())).build());
        assertThat(response.statusCode()).as("PUT %s: %s", path, response.body()).isEqualTo(200);
    }

    /** POST a JSON body to a Nomad API path. */
    static JsonNode post(String path, JsonNode body) throws IOException, InterruptedException {
        var response = send(request(path, TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build());
        assertThat(response.statusCode()).as("POST %s: %s", path, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The variable the sandboxes of the parent job {@code parentJobId} render their launch credentials from. */
    static String credentialsPath(String parentJobId) {
        return "nomad/jobs/" + parentJobId + "/sandbox/sandbox";
    }

    /**
     * The first version of the credentials' variable of {@code parentJobId} that will exist (it may
     * already), as the management token reads it: blocking queries on it, from now, for up to 3 minutes.
     */
    static CompletableFuture<JsonNode> awaitVariable(String parentJobId, String namespace) {
        var variable = new CompletableFuture<JsonNode>();
        var path = "/v1/var/" + credentialsPath(parentJobId) + "?namespace=" + namespace;
        Thread.ofVirtual().name("await-variable").start(() -> {
            try {
                long index = 0;
                var deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (System.nanoTime() < deadline) {
                    var response = send(request(path + "&wait=10s&index=" + index, TOKEN).build());
                    if (response.statusCode() == 200) {
                        variable.complete(JSON.readTree(response.body()));
                        return;
                    }
                    assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(404);
                    long next = response.headers().firstValueAsLong("X-Nomad-Index").orElse(0);
                    if (next <= index) {
                        Thread.sleep(200); // Nomad gave no index to wait on: poll
                    }
                    index = Math.max(index, next);
                }
                variable.completeExceptionally(new AssertionError("no variable " + path + " within 3 minutes"));
            } catch (Throwable e) {
                variable.completeExceptionally(e);
            }
        });
        return variable;
    }

    /** The dispatched (child) jobs under {@code prefix}, with their meta. */
    static List<JsonNode> dispatchedJobs(String prefix) throws IOException, InterruptedException {
        return dispatchedJobs(prefix, DEFAULT_NAMESPACE);
    }

    /** The dispatched (child) jobs under {@code prefix} in {@code namespace}, with their meta. */
    static List<JsonNode> dispatchedJobs(String prefix, String namespace) throws IOException, InterruptedException {
        var jobs = new ArrayList<JsonNode>();
        get("/v1/jobs?meta=true&prefix=" + prefix + "&namespace=" + namespace).forEach(job -> {
            if (!job.path("ParentID").asText("").isEmpty()) {
                jobs.add(job);
            }
        });
        return jobs;
    }

    /** The ids of the allocations of the dispatched job {@code nomadJob}. */
    static List<String> allocationIds(String nomadJob) throws IOException, InterruptedException {
        var allocations = get("/v1/job/" + nomadJob + "/allocations");
        assertThat(allocations).as("the allocations of %s", nomadJob).isNotNull();
        var ids = new ArrayList<String>();
        allocations.forEach(allocation -> ids.add(allocation.path("ID").asText()));
        return ids;
    }

    /** Ids of containers (running or not) that Nomad started for the dispatched jobs under {@code prefix}. */
    static List<String> containers(String prefix) throws IOException, InterruptedException {
        return containers(prefix, DEFAULT_NAMESPACE);
    }

    static List<String> containers(String prefix, String namespace) throws IOException, InterruptedException {
        var found = new ArrayList<String>();
        for (var job : dispatchedJobs(prefix, namespace)) {
            var allocations = get("/v1/job/" + job.path("ID").asText() + "/allocations?namespace=" + namespace);
            if (allocations == null) {
                continue; // purged meanwhile
            }
            for (var allocation : allocations) {
                // The docker driver labels each container with its allocation.
                var result = run(List.of("docker", "ps", "-a", "-q", "--filter",
                        "label=com.hashicorp.nomad.alloc_id=" + allocation.path("ID").asText()), Duration.ofSeconds(30));
                assertThat(result.exit()).as("docker ps: %s", result.output()).isZero();
                result.output().lines().filter(line -> !line.isBlank()).forEach(found::add);
            }
        }
        return found;
    }

    /**
     * What the suite leaves: no dispatched job under {@code prefix} still running and no container
     * of theirs; then purges them and their parent jobs from Nomad.
     */
    static void assertNothingLeftAndPurge(String prefix) throws Exception {
        assertNothingLeftAndPurge(prefix, DEFAULT_NAMESPACE);
    }

    /** As {@link #assertNothingLeftAndPurge(String)}, for the jobs in {@code namespace}. */
    static void assertNothingLeftAndPurge(String prefix, String namespace) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<JsonNode> running;
        List<String> containers;
        do {
            running = dispatchedJobs(prefix, namespace).stream()
                    .filter(job -> !"dead".equals(job.path("Status").asText())).toList();
            containers = containers(prefix, namespace);
            if (running.isEmpty() && containers.isEmpty()) {
                break;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        assertThat(running).as("dispatched Nomad jobs still running").isEmpty();
        assertThat(containers).as("containers left by Nomad jobs " + prefix + "*").isEmpty();
        var jobs = "/v1/jobs?prefix=" + prefix + "&namespace=" + namespace;
        for (var job : get(jobs)) {
            delete("/v1/job/" + job.path("ID").asText() + "?purge=true&namespace=" + namespace);
        }
        assertThat(get(jobs)).as("Nomad jobs " + prefix + "* after purging").isEmpty();
    }

    record Result(int exit, String output) {}

    static Result run(List<String> command, Duration timeout) throws IOException {
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var output = new StringBuilder();
        var reader = Thread.ofVirtual().start(() -> {
            try (var in = process.getInputStream()) {
                output.append(new String(in.readAllBytes(), UTF_8));
            } catch (IOException ignored) {
                // the process went away
            }
        });
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return new Result(-1, "timed out after " + timeout);
            }
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new Result(process.exitValue(), output.toString());
    }
}
