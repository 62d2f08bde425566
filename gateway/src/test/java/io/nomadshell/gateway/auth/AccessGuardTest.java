package io.nomadshell.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The guard's decisions, request by request; the end-to-end tests check it on the real server. */
class AccessGuardTest {
    private static final long SERVER_BODY_LIMIT = 75L << 20;

    private final AtomicReference<@Nullable String> seenOwner = new AtomicReference<>();
    private final HttpService route = (ctx, req) -> {
        seenOwner.set(AccessGuard.owner(ctx));
        return HttpResponse.of(HttpStatus.OK);
    };

    @Test
    void withKeysEverythingButThePublicListNeedsOne() throws Exception {
        var guard = new AccessGuard(ApiKeys.of(Set.of("k1")), false);
        for (var path : new String[] {"/metrics", "/docs/", "/schedule", "/status/j1", "/download/j1", "/v1/jobs",
                "/v1/jobs/j1/links", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/nope"}) {
            assertThat(status(guard, HttpMethod.GET, path, Map.of())).as(path).isEqualTo(401);
        }
        for (var path : new String[] {"/", "/internal/healthcheck", "/internal/readiness", "/ui/index.html",
                "/grpc.health.v1.Health/Check"}) {
            assertThat(status(guard, HttpMethod.GET, path, Map.of())).as(path).isEqualTo(200);
            assertThat(seenOwner.get()).as("no owner on a public route").isNull();
        }
        assertThat(status(guard, HttpMethod.GET, "/status/j1", Map.of("authorization", "Bearer k1"))).isEqualTo(200);
        assertThat(seenOwner.get()).startsWith("key-");
        assertThat(status(guard, HttpMethod.GET, "/status/j1", Map.of("authorization", "Bearer k2"))).isEqualTo(401);
    }

    @Test
    void aJobsBrowserPagesNeedAKeyToo() throws Exception {
        // Links open previews on their own origin; the API's own pages take the key alone.
        var guard = new AccessGuard(ApiKeys.of(Set.of("k1")), false);
        for (var path : new String[] {"/v1/jobs/j1/events", "/v1/jobs/j1/desktop", "/v1/jobs/j1/screenshots/c1",
                "/v1/jobs/j1/ports/8000/", "/v1/jobs/j1/jupyter"}) {
            assertThat(status(guard, HttpMethod.GET, path, Map.of())).as(path).isEqualTo(401);
            assertThat(status(guard, HttpMethod.GET, path + "?token=l2.j1.8000.x.1.sig", Map.of()))
                    .as("a link means nothing on the API: %s", path).isEqualTo(401);
        }
        assertThat(status(guard, HttpMethod.GET, "/v1/jobs/j1/events", Map.of("authorization", "Bearer bad")))
                .isEqualTo(401);
    }

    @Test
    void metricsArePublicOnlyWhenAsked() throws Exception {
        assertThat(status(new AccessGuard(ApiKeys.of(Set.of("k1")), true), HttpMethod.GET, "/metrics", Map.of())).isEqualTo(200);
    }

    @Test
    void noKeyModeAnswersOnlyLoopbackNamesAndEveryoneIsTheLocalOwner() throws Exception {
        var guard = new AccessGuard(ApiKeys.none(), false);
        for (var host : new String[] {"localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "[::1]", "LOCALHOST"}) {
            assertThat(status(guard, HttpMethod.GET, "/v1/jobs", Map.of("host", host))).as(host).isEqualTo(200);
            assertThat(seenOwner.get()).isEqualTo(ApiKeys.LOCAL_OWNER);
        }
        for (var host : new String[] {"evil.example", "evil.example:8080", "app.localhost:8080", "127.0.0.1.nip.io",
                "[::2]:8080", "localhost.evil.example"}) {
            assertThat(status(guard, HttpMethod.GET, "/v1/jobs", Map.of("host", host))).as(host).isEqualTo(403);
            assertThat(status(guard, HttpMethod.GET, "/internal/healthcheck", Map.of("host", host))).as(host).isEqualTo(403);
        }
    }

    @Test
    void aCrossSiteWriteIsRefusedAndASameOriginOneIsNot() throws Exception {
        for (var guard : new AccessGuard[] {new AccessGuard(ApiKeys.none(), false),
                new AccessGuard(ApiKeys.of(Set.of("k1")), false)}) {
            var key = Map.of("host", "127.0.0.1:8080", "authorization", "Bearer k1");
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "origin", "http://evil.example"))).isEqualTo(403);
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "origin", "null"))).isEqualTo(403);
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "origin", "https://127.0.0.1:8080"))).isEqualTo(403);
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "sec-fetch-site", "cross-site"))).isEqualTo(403);
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "sec-fetch-site", "same-site"))).isEqualTo(403);
            assertThat(status(guard, HttpMethod.DELETE, "/v1/jobs/j1", with(key, "origin", "http://evil.example"))).isEqualTo(403);
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "origin", "http://127.0.0.1:8080"))).isEqualTo(200);
            assertThat(status(guard, HttpMethod.POST, "/schedule", with(key, "sec-fetch-site", "same-origin"))).isEqualTo(200);
            assertThat(status(guard, HttpMethod.POST, "/schedule", key)).as("no browser").isEqualTo(200);
            assertThat(status(guard, HttpMethod.GET, "/v1/jobs", with(key, "origin", "http://evil.example")))
                    .as("reading is left to the key and CORS").isEqualTo(200);
            var webSocket = with(with(key, "upgrade", "websocket"), "connection", "upgrade");
            assertThat(status(guard, HttpMethod.GET, "/v1/jobs/j1/jupyter/api/kernels/k1/channels",
                    with(webSocket, "origin", "http://evil.example"))).as("a cross-site WebSocket").isEqualTo(403);
            assertThat(status(guard, HttpMethod.GET, "/v1/jobs/j1/jupyter/api/kernels/k1/channels",
                    with(webSocket, "origin", "http://127.0.0.1:8080"))).as("a same-origin WebSocket").isEqualTo(200);
        }
    }

    @Test
    void framedGrpcGetsAGrpcStatus() throws Exception {
        var guard = new AccessGuard(ApiKeys.of(Set.of("k1")), false);
        var response = serve(guard, HttpMethod.POST, "/nomadshell.v1.JobService/GetJob",
                Map.of("content-type", "application/grpc")).aggregate().join();
        assertThat(response.status().code()).isEqualTo(200);
        assertThat(response.headers().get("grpc-status")).isEqualTo("16");
    }

    @Test
    void onlyUploadsMayUseTheServersLargerBodyLimit() throws Exception {
        var guard = new AccessGuard(ApiKeys.of(Set.of("k1")), false);
        var key = Map.of("authorization", "Bearer k1");
        var grpc = with(key, "content-type", "application/grpc");
        assertThat(bodyLimit(guard, "/schedule", key)).isEqualTo(AccessGuard.REST_BODY_LIMIT);
        assertThat(bodyLimit(guard, "/nomadshell.v1.JobService/Schedule", grpc)).isEqualTo(AccessGuard.GRPC_BODY_LIMIT);
        assertThat(bodyLimit(guard, "/v1/uploads", key)).isEqualTo(SERVER_BODY_LIMIT);
        assertThat(bodyLimit(guard, "/nomadshell.v1.JobService/Upload", grpc)).isEqualTo(SERVER_BODY_LIMIT);
    }

    /** The body limit a POST to {@code path} is held to, on a server that allows {@link #SERVER_BODY_LIMIT}. */
    private long bodyLimit(AccessGuard guard, String path, Map<String, String> headers) throws Exception {
        var req = request(HttpMethod.POST, path, headers);
        var ctx = ServiceRequestContext.of(req);
        ctx.setMaxRequestLength(SERVER_BODY_LIMIT);
        guard.serve(route, ctx, req).aggregate().join();
        return ctx.maxRequestLength();
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        var copy = new java.util.HashMap<>(headers);
        copy.put(name, value);
        return copy;
    }

    private int status(AccessGuard guard, HttpMethod method, String path, Map<String, String> headers) throws Exception {
        seenOwner.set(null);
        return serve(guard, method, path, headers).aggregate().join().status().code();
    }

    private HttpResponse serve(AccessGuard guard, HttpMethod method, String path, Map<String, String> headers)
            throws Exception {
        var req = request(method, path, headers);
        return guard.serve(route, ServiceRequestContext.of(req), req);
    }

    private static HttpRequest request(HttpMethod method, String path, Map<String, String> headers) {
        var builder = RequestHeaders.builder(method, path).authority("127.0.0.1:8080");
        headers.forEach((name, value) -> {
            if (name.equals("host")) {
                builder.authority(value);
            } else {
                builder.set(name, value);
            }
        });
        return HttpRequest.of(builder.build());
    }
}
