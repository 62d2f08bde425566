package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.server.RoutePathType;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.grpc.GrpcService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one guard: with keys on, every route the running server has registered and every gRPC method
 * of every service it serves answers 401 / UNAUTHENTICATED without a key, except the public list;
 * with no keys, a foreign Host and a browser's cross-site form POST are refused and schedule nothing.
 * Routes and methods are read from the server itself, so one added later is checked too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessGuardTest {
    private static final String JOB = "jaaaaaaaaaaaaaaaaaaaa";
    /** Public by design: health, readiness, the UI's static files (and the redirect to them). */
    private static final Set<String> PUBLIC_PATHS = Set.of("/", "/internal/healthcheck", "/internal/readiness");
    private static final List<String> PUBLIC_PREFIXES = List.of("/ui/", "/grpc.health.v1.Health/");
    /** A path for each regex route; a regex route without one fails the test until it gets one. */
    private static final List<String> REGEX_SAMPLES = List.of(
            "/v1/jobs/" + JOB + "/ports/8000/", "/v1/jobs/" + JOB + "/ports/8000",
            "/v1/jobs/" + JOB + "/jupyter/", "/v1/jobs/" + JOB + "/jupyter", "/v1/jobs/" + JOB + ":cancel",
            "/v1/jobs/" + JOB + ":pause", "/v1/jobs/" + JOB + ":resume", "/v1/jobs/" + JOB + ":rollback",
            "/v1/jobs/" + JOB + ":fork");
    private static final String ATTACK_TASK = "Build me a todo app in React, says another site";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ScriptedModelServer model;
    private TestCluster keyed;
    private TestCluster open;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        keyed = TestCluster.start(dataDir.resolve("keyed"), model.baseUrl(), 1, ApiKeys.of(Set.of("k1")));
        open = TestCluster.start(dataDir.resolve("open"), model.baseUrl(), 1);
    }

    @AfterAll
    void stop() {
        if (keyed != null) keyed.close();
        if (open != null) open.close();
        if (model != null) model.close();
    }

    @Test
    void everyRouteWithoutAKeyIs401ExceptThePublicOnes() {
        var checked = new TreeMap<String, Integer>();
        for (var config : keyed.serverConfig().serviceConfigs()) {
            var route = config.route();
            if (isFramedGrpc(config)) {
                continue; // gRPC methods are called as gRPC below
            }
            var path = samplePath(config);
            for (var method : methods(route.methods())) {
                var response = send(keyed.port(), method, path);
                checked.put(method + " " + path, response.statusCode());
                if (isPublic(path)) {
                    assertThat(response.statusCode()).as("public %s %s: %s", method, path, response.body()).isNotEqualTo(401);
                } else {
                    assertThat(response.statusCode()).as("%s %s (route %s): %s", method, path, route, response.body())
                            .isEqualTo(401);
                    assertThat(response.body()).contains("\"grpc-code\":\"UNAUTHENTICATED\"");
                }
            }
        }
        System.out.println("Routes checked without a key: " + checked);
        assertThat(checked).as("the routes the issue names are among those checked").containsKeys(
                "GET /metrics", "GET /docs/", "GET /download/" + JOB, "GET /v1/jobs/" + JOB + "/events",
                "POST /schedule", "POST /submit", "GET /status/" + JOB, "POST /v1/jobs/" + JOB + "/links");
    }

    @Test
    void everyGrpcMethodWithoutAKeyIsUnauthenticated() throws Exception {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + keyed.port(), InsecureChannelCredentials.create()).build();
        try {
            var checked = new TreeMap<String, String>();
            var services = new java.util.HashSet<String>();
            for (var config : keyed.serverConfig().serviceConfigs()) {
                var grpc = config.service().as(GrpcService.class);
                if (grpc == null) {
                    continue;
                }
                for (var service : grpc.services()) {
                    var name = service.getServiceDescriptor().getName();
                    // Every gRPC route of the server leads to the same services: call each method once.
                    if (!services.add(name)) {
                        continue;
                    }
                    for (var method : service.getMethods()) {
                        var descriptor = method.getMethodDescriptor();
                        var started = System.nanoTime();
                        var code = call(channel, descriptor.getFullMethodName(), descriptor.getType());
                        checked.put(descriptor.getFullMethodName(),
                                code + " in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
                        if (name.equals("grpc.health.v1.Health")) {
                            assertThat(code).as(descriptor.getFullMethodName()).isNotEqualTo(Status.Code.UNAUTHENTICATED);
                        } else {
                            assertThat(code).as(descriptor.getFullMethodName()).isEqualTo(Status.Code.UNAUTHENTICATED);
                        }
                    }
                }
            }
            System.out.println("gRPC methods checked without a key: " + checked);
            assertThat(checked).containsKeys("nomadshell.v1.JobService/Schedule", "nomadshell.v1.JobService/WatchJob",
                    "nomadshell.v1.JobService/DownloadArtifact", "nomadshell.v1.JobService/PortForward",
                    "grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aKeyStillOpensTheApi() {
        var rest = keyed.rest("k1");
        assertThat(rest.get("/v1/jobs").statusCode()).isEqualTo(200);
        assertThat(rest.get("/status/" + JOB).statusCode()).isEqualTo(404);
        assertThat(rest.get("/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void aPlainTextTaskIsHeldToTheRestBodyLimitAndReadOnlyAfterTheKey() {
        var big = "x".repeat(2 * 1024 * 1024);
        var withoutKey = keyed.rest().post("/schedule", "text/plain", big);
        assertThat(withoutKey.statusCode()).as(withoutKey.body()).isEqualTo(401);
        // Refused once 1 MiB has come in: the answer is 413, unless the server's close of the connection
        // reaches the client while it still uploads, which then reports the reset (or the close before
        // any answer) instead.
        try {
            var withKey = keyed.rest("k1").post("/schedule", "text/plain", big);
            assertThat(withKey.statusCode()).as(withKey.body()).isEqualTo(413);
        } catch (UncheckedIOException e) {
            assertThat(e).satisfiesAnyOf(reset -> assertThat(reset).hasStackTraceContaining("Connection reset"),
                    reset -> assertThat(reset).hasStackTraceContaining("Broken pipe"),
                    reset -> assertThat(reset).hasStackTraceContaining("header parser received no bytes"));
        }
        assertNoJobs();
    }

    @Test
    void noKeyModeRefusesAForeignHost() throws IOException {
        for (var host : List.of("evil.example", "evil.example:" + open.port(), "app.localhost:" + open.port(),
                "127.0.0.1.evil.example")) {
            var status = rawStatus(open.port(), "GET /v1/jobs HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertThat(status).as("Host: %s", host).isEqualTo(403);
            var post = rawStatus(open.port(), "POST /schedule HTTP/1.1\r\nHost: " + host
                    + "\r\nContent-Type: text/plain\r\nContent-Length: " + ATTACK_TASK.length()
                    + "\r\nConnection: close\r\n\r\n" + ATTACK_TASK);
            assertThat(post).as("POST with Host: %s", host).isEqualTo(403);
        }
        for (var host : List.of("localhost:" + open.port(), "127.0.0.1:" + open.port(), "[::1]:" + open.port())) {
            assertThat(rawStatus(open.port(), "GET /v1/jobs HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
                    .as("Host: %s", host).isEqualTo(200);
        }
        assertNoJobs();
    }

    @Test
    void aCrossSiteFormPostSchedulesNothing() throws Exception {
        var base = "http://127.0.0.1:" + open.port();
        var attempts = List.of(
                Map.of("Origin", "http://evil.example"),
                Map.of("Origin", "null"),
                Map.of("Origin", "http://127.0.0.1:" + (open.port() + 1)),
                Map.of("Sec-Fetch-Site", "cross-site"),
                Map.of("Sec-Fetch-Site", "same-site", "Origin", base));
        for (var headers : attempts) {
            for (var path : List.of("/schedule", "/submit", "/v1/jobs")) {
                // As a browser sends it: HTTP/1.1 to a plain-http origin. (Over h2c the server's reset of
                // the unread upload may reach the Java client before its 403 does.)
                var request = HttpRequest.newBuilder(URI.create(base + path))
                        .version(HttpClient.Version.HTTP_1_1)
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString(ATTACK_TASK));
                headers.forEach(request::header);
                var response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as("%s %s: %s", path, headers, response.body()).isEqualTo(403);
            }
        }
        assertNoJobs();

        // The web UI's own requests (same origin) still schedule.
        var sameOrigin = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/schedule")).version(HttpClient.Version.HTTP_1_1)
                .header("Content-Type", "text/plain").header("Origin", base).header("Sec-Fetch-Site", "same-origin")
                .POST(HttpRequest.BodyPublishers.ofString(Fixtures.HELLO_TASK)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(sameOrigin.statusCode()).as(sameOrigin.body()).isEqualTo(200);
        var id = Rest.json(sameOrigin).path("job_id").asText();
        open.rest().awaitEnd(id, Duration.ofSeconds(90));
    }

    @Test
    void theSandboxesSocketServesNothingButTheSandboxProtocol() throws IOException {
        // The socket is the Attach listener's, a server of its own: no route of the API exists there.
        for (var cluster : List.of(keyed, open)) {
            var socket = cluster.attachSocket();
            for (var request : List.of("GET /v1/jobs", "GET /metrics", "GET /docs/", "GET /ui/", "GET /internal/healthcheck",
                    "GET /status/" + JOB, "GET /v1/jobs/" + JOB + "/events")) {
                assertThat(rawStatus(socket, request + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
                        .as("%s over %s", request, socket).isEqualTo(404);
            }
            var post = "POST /schedule HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: "
                    + ATTACK_TASK.length() + "\r\nConnection: close\r\n\r\n" + ATTACK_TASK;
            assertThat(rawStatus(socket, post)).isEqualTo(404);
        }
        assertNoJobs();
    }

    private void assertNoJobs() {
        var jobs = Rest.json(open.rest().get("/v1/jobs"));
        jobs.path("jobs").forEach(job -> assertThat(job.path("task").asText()).as("a job scheduled: %s", job)
                .isNotEqualTo(ATTACK_TASK));
    }

    private static boolean isPublic(String path) {
        return PUBLIC_PATHS.contains(path) || PUBLIC_PREFIXES.stream().anyMatch(path::startsWith);
    }

    private static boolean isFramedGrpc(ServiceConfig config) {
        var consumes = config.route().consumes();
        return !consumes.isEmpty() && consumes.stream().allMatch(type -> type.subtype().startsWith("grpc"));
    }

    /** A concrete path the route matches, with {@value #JOB} for its variables. */
    private static String samplePath(ServiceConfig config) {
        var route = config.route();
        var paths = route.paths();
        return switch (route.pathType()) {
            case EXACT -> paths.get(0);
            case PREFIX -> paths.get(0);
            case PARAMETERIZED -> paths.get(paths.size() - 1).replaceAll("\\{[^}/]+}|:[A-Za-z_][A-Za-z0-9_]*|:(?=/|$)", JOB)
                    .replace("\0", JOB);
            case REGEX, REGEX_WITH_PREFIX -> {
                var regex = Pattern.compile(route.patternString().startsWith("^") ? route.patternString() : paths.get(0));
                yield REGEX_SAMPLES.stream().filter(sample -> regex.matcher(sample).find()).findFirst()
                        .orElseThrow(() -> new AssertionError("add a sample path for the regex route " + route));
            }
        };
    }

    private static List<HttpMethod> methods(Set<HttpMethod> allowed) {
        var methods = new ArrayList<HttpMethod>();
        for (var method : List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE)) {
            if (allowed.contains(method)) {
                methods.add(method);
            }
        }
        return methods;
    }

    private static HttpResponse<String> send(int port, HttpMethod method, String path) {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .method(method.name(), method == HttpMethod.GET ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString("{}"));
        // A connection of its own: a 401 sent before the request body was read lets the server close
        // the connection, and a pooled one would then fail the next request (seen in CI).
        try (var client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(method + " " + path, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Calls a method with an empty message, whatever its type; the status it ends with. */
    private static Status.Code call(ManagedChannel channel, String fullName, MethodDescriptor.MethodType type) throws Exception {
        var descriptor = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(fullName)
                .setRequestMarshaller(Bytes.INSTANCE)
                .setResponseMarshaller(Bytes.INSTANCE)
                .build();
        var call = channel.newCall(descriptor, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
        var closed = new CompletableFuture<Status>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(new byte[0]);
        call.halfClose();
        return closed.get(15, TimeUnit.SECONDS).getCode();
    }

    /** The status of one raw HTTP/1.1 exchange (for headers an HTTP client will not let us set, like Host). */
    static int rawStatus(int port, String request) throws IOException {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return statusOf(socket.getInputStream());
        }
    }

    /** The same over a Unix socket. */
    static int rawStatus(Path unixSocket, String request) throws IOException {
        try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(unixSocket));
            channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return statusOf(Channels.newInputStream(channel));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("no answer over " + unixSocket, e);
        }
    }

    private static int statusOf(InputStream in) throws IOException {
        var line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.append((char) b);
        }
        var parts = line.toString().split(" ");
        return parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
    }

    private enum Bytes implements MethodDescriptor.Marshaller<byte[]> {
        INSTANCE;

        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
