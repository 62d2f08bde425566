package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import com.linecorp.armeria.common.grpc.protocol.StatusMessageEscaper;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.gateway.http.JsonErrors;
import io.netty.util.AttributeKey;
import java.net.URI;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The one check in front of every route and gRPC method of the public server (sandboxes never reach
 * it: they attach to a listener of their own, and previews are served on another port). In order:
 * <ol>
 *   <li>With no API keys (loopback only), a {@code Host} that is not a loopback name is refused: a
 *       page on another site that rebinds its DNS name to 127.0.0.1 gets nothing.</li>
 *   <li>A browser's cross-site request that could change state (anything but GET and HEAD, and any
 *       WebSocket, with a foreign {@code Origin} or {@code Sec-Fetch-Site: cross-site|same-site}) is
 *       refused, so a form on another site cannot schedule a job, nor its script open a kernel.</li>
 *   <li>The {@linkplain #PUBLIC public} routes pass.</li>
 *   <li>Everything else needs an API key; its owner goes into the context ({@link #owner}) and no
 *       route checks the key again.</li>
 * </ol>
 * Refusals are JSON errors, or gRPC statuses for framed gRPC calls.
 */
public final class AccessGuard implements DecoratingHttpServiceFunction {
    /** The authenticated owner of the request; absent on public routes. */
    private static final AttributeKey<String> OWNER = AttributeKey.valueOf(AccessGuard.class, "OWNER");

    /** Open to anyone: health, readiness and the web UI's static files (which hold no data). */
    static final Set<String> PUBLIC = Set.of("/", "/internal/healthcheck", "/internal/readiness");
    private static final String[] PUBLIC_PREFIXES = {"/ui/", "/grpc.health.v1.Health/"};
    static final String METRICS = "/metrics";

    /** Take an archive as their body (REST) or stream (gRPC), up to the server's (larger) limit. */
    static final String UPLOADS = "/v1/uploads";
    static final String GRPC_UPLOAD = "/nomadshell.v1.JobService/Upload";

    /** Every other gRPC call: what the server allowed before uploads raised its limit. */
    static final long GRPC_BODY_LIMIT = 10 * 1024 * 1024;

    /** Bodies the REST face parses as JSON (a task is at most 64 KiB). */
    static final long REST_BODY_LIMIT = 1024 * 1024;

    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");
    private static final Set<HttpMethod> SAFE_METHODS = Set.of(HttpMethod.GET, HttpMethod.HEAD);

    private final ApiKeys keys;
    private final boolean metricsPublic;

    /** {@code metricsPublic} lets Prometheus scrape {@code /metrics} without a key. */
    public AccessGuard(ApiKeys keys, boolean metricsPublic) {
        this.keys = requireNonNull(keys, "keys");
        this.metricsPublic = metricsPublic;
    }

    /** The owner the guard authenticated for this request, or null when it carried no key. */
    public static @Nullable String owner(ServiceRequestContext ctx) {
        return requireNonNull(ctx, "ctx").attr(OWNER);
    }

    /**
     * The owner of a request on a route that is not public: the guard let it through only with one,
     * so a missing owner is a wiring mistake (a route served without the guard), never a user's.
     */
    public static String requireOwner(ServiceRequestContext ctx) {
        var owner = owner(ctx);
        if (owner == null) {
            throw new IllegalStateException("no authenticated owner: is " + ctx.path() + " served behind AccessGuard?");
        }
        return owner;
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        var path = ctx.path();
        if (!keys.enabled() && !isLoopback(req.headers().authority())) {
            return refuse(req, HttpStatus.FORBIDDEN, Status.Code.PERMISSION_DENIED,
                    "this server has no API keys and answers only requests for localhost, 127.0.0.1 or [::1]");
        }
        if ((!SAFE_METHODS.contains(req.method()) || isWebSocket(req)) && isCrossSite(ctx, req)) {
            return refuse(req, HttpStatus.FORBIDDEN, Status.Code.PERMISSION_DENIED,
                    "requests from another site cannot change anything here");
        }
        if (isPublic(path)) {
            return delegate.serve(ctx, req);
        }
        if (!path.equals(UPLOADS) && !path.equals(GRPC_UPLOAD)) {
            ctx.setMaxRequestLength(Math.min(ctx.maxRequestLength(), isGrpc(req) ? GRPC_BODY_LIMIT : REST_BODY_LIMIT));
        }
        var authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        var owner = keys.authenticate(authorization);
        if (owner.isEmpty()) {
            return refuse(req, HttpStatus.UNAUTHORIZED, Status.Code.UNAUTHENTICATED, ApiKeys.challenge(authorization));
        }
        ctx.setAttr(OWNER, owner.get());
        return delegate.serve(ctx, req);
    }

    /** A plain loop: every request asks, and a stream here was garbage on each. */
    private boolean isPublic(String path) {
        if (PUBLIC.contains(path) || (metricsPublic && path.equals(METRICS))) {
            return true;
        }
        for (var prefix : PUBLIC_PREFIXES) {
            if (path.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** A Host is a name for this machine's loopback (the API's names, not {@code *.localhost}). */
    static boolean isLoopback(@Nullable String authority) {
        if (authority == null) {
            return true; // HTTP/1.0 without Host: no browser, so no rebinding
        }
        var host = authority.toLowerCase(Locale.ROOT);
        var end = host.startsWith("[") ? host.indexOf(']') + 1 : host.lastIndexOf(':');
        if (end > 0 && end < host.length() && host.charAt(end) != ':') {
            return false;
        }
        if (end > 0) {
            host = host.substring(0, end);
        }
        return LOOPBACK_NAMES.contains(host);
    }

    private static boolean isCrossSite(ServiceRequestContext ctx, HttpRequest req) {
        var site = req.headers().get("sec-fetch-site");
        if (site != null && (site.equalsIgnoreCase("cross-site") || site.equalsIgnoreCase("same-site"))) {
            return true;
        }
        var origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null) {
            return false; // not a browser's cross-origin request (browsers send Origin with those)
        }
        var ownScheme = ctx.sessionProtocol().isTls() ? "https" : "http";
        try {
            var uri = URI.create(origin);
            return !ownScheme.equalsIgnoreCase(uri.getScheme())
                    || uri.getRawAuthority() == null
                    || !uri.getRawAuthority().equalsIgnoreCase(req.headers().authority());
        } catch (IllegalArgumentException malformed) {
            return true; // "null" and other opaque origins
        }
    }

    /** A WebSocket handshake, over HTTP/1.1 ({@code Upgrade}) or HTTP/2 ({@code :protocol}). */
    private static boolean isWebSocket(HttpRequest req) {
        return "websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.UPGRADE))
                || "websocket".equalsIgnoreCase(req.headers().get(HttpHeaderNames.PROTOCOL));
    }

    private static boolean isGrpc(HttpRequest req) {
        var type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16);
    }

    /** Framed gRPC gets a trailers-only gRPC status; everything else the API's JSON error. */
    private static HttpResponse refuse(HttpRequest req, HttpStatus status, Status.Code code, String message) {
        if (isGrpc(req)) {
            return HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK)
                    .contentType(MediaType.parse(requireNonNull(req.headers().get(HttpHeaderNames.CONTENT_TYPE), "type")))
                    .add(GrpcHeaderNames.GRPC_STATUS, Integer.toString(code.value()))
                    .add(GrpcHeaderNames.GRPC_MESSAGE, StatusMessageEscaper.escape(message))
                    .endOfStream(true)
                    .build());
        }
        return JsonErrors.of(status, code, message);
    }
}
