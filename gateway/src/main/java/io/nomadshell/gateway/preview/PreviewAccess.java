package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.auth.LinkTokens;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In front of the preview proxy: finds the job and port the {@code Host} names, lets in only a
 * browser holding the owner's link for exactly that job and port, and finds the tunnel bridge to it;
 * the proxy behind only moves bytes. A link in the address becomes a cookie of this host alone
 * (no {@code Domain}, HttpOnly, SameSite=Lax) and a redirect drops it from the address. The
 * {@code Authorization} header is never looked at here, and never forwarded.
 */
final class PreviewAccess implements DecoratingHttpServiceFunction {
    /** The cookie that lets a browser into one preview host. */
    static final String COOKIE = "nomad_shell_preview";
    /** Jupyter Server in the sandbox; requests to it get its token added. */
    static final int JUPYTER_PORT = 8888;
    /** How long a browser stays in after opening a link: a working session, not the link's minutes. */
    static final Duration SESSION = Duration.ofHours(8);
    private static final Logger log = LoggerFactory.getLogger(PreviewAccess.class);

    private final JobManager jobs;
    private final JobTunnels tunnels;
    private final LinkTokens tokens;
    private final PreviewHosts hosts;
    private final Clock clock;

    PreviewAccess(JobManager jobs, JobTunnels tunnels, LinkTokens tokens, PreviewHosts hosts, Clock clock) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.tunnels = requireNonNull(tunnels, "tunnels");
        this.tokens = requireNonNull(tokens, "tokens");
        this.hosts = requireNonNull(hosts, "hosts");
        this.clock = requireNonNull(clock, "clock");
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        var found = hosts.parse(req.authority());
        if (found.isEmpty()) {
            return page(HttpStatus.NOT_FOUND, "There is no preview here. Previews are opened with a link "
                    + "from the API (POST /v1/jobs/{job_id}/links?port=N) or the web UI.");
        }
        var target = found.get();
        var params = QueryParams.fromQueryString(ctx.query());
        var link = params.get(PreviewLinks.PARAM);
        if (link != null) {
            return enter(ctx, target, link, params);
        }
        @Nullable String owner = null;
        @Nullable String refusal = null;
        // Every cookie of our name: another preview page may have planted one of its own on a parent domain.
        for (var cookie : req.headers().cookies()) {
            if (cookie.name().equals(COOKIE)) {
                switch (tokens.verify(cookie.value(), target.jobId(), target.port())) {
                    case LinkTokens.Verdict.Allowed allowed -> owner = allowed.owner();
                    case LinkTokens.Verdict.Refused refused -> refusal = refused.reason();
                }
                if (owner != null) {
                    break;
                }
            }
        }
        if (owner == null) {
            return refusal != null
                    ? page(HttpStatus.FORBIDDEN, "This preview did not let you in: " + refusal + ".")
                    : page(HttpStatus.UNAUTHORIZED, "This preview opens only through a link of its owner: ask the API "
                            + "(POST /v1/jobs/" + target.jobId() + "/links?port=" + target.port() + ") or use the web UI.");
        }
        return proxy(delegate, ctx, req, target, owner);
    }

    /** The link in the address becomes this host's cookie; the redirect drops it from the address. */
    private HttpResponse enter(ServiceRequestContext ctx, PreviewHosts.Target target, String link, QueryParams params) {
        return switch (tokens.verify(link, target.jobId(), target.port())) {
            case LinkTokens.Verdict.Refused refused ->
                    page(HttpStatus.FORBIDDEN, "This link does not open this preview: " + refused.reason() + ".");
            case LinkTokens.Verdict.Allowed allowed -> {
                var session = tokens.issue(target.jobId(), target.port(), allowed.owner(), clock.instant().plus(SESSION));
                var rest = params.toBuilder().removeAndThen(PreviewLinks.PARAM).build();
                yield HttpResponse.of(ResponseHeaders.builder(HttpStatus.FOUND)
                        .set(HttpHeaderNames.LOCATION, onThisHost(ctx.path()) + (rest.isEmpty() ? "" : "?" + rest.toQueryString()))
                        .cookie(Cookie.builder(COOKIE, session)
                                .path("/")
                                .httpOnly(true)
                                .sameSite("Lax")
                                .maxAge(SESSION.toSeconds())
                                .build())
                        .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                        .set(HttpHeaderNames.REFERRER_POLICY, "no-referrer")
                        .build());
            }
        };
    }

    /** A path that stays on this host: {@code //elsewhere/} in a Location would leave it. */
    private static String onThisHost(String path) {
        return "/" + path.replaceFirst("^/+", "");
    }

    private HttpResponse proxy(HttpService delegate, ServiceRequestContext ctx, HttpRequest req,
            PreviewHosts.Target target, String owner) {
        ctx.clearRequestTimeout();
        // The ownership check and the bridge are Redis and Attach work: off the event loop, then back on it.
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                jobs.get(owner, target.jobId());
                var socket = tunnels.bridge(target.jobId(), target.port());
                var serverToken = target.port() == JUPYTER_PORT ? tunnels.jupyterToken(target.jobId()) : null;
                var query = ctx.query();
                ctx.setAttr(PortTarget.KEY, new PortTarget(target.port(), socket,
                        ctx.path() + (query == null ? "" : "?" + query), hosts.origin(target.jobId(), target.port()),
                        serverToken));
                return (HttpResponse) null;
            } catch (JobException e) {
                return refused(e);
            }
        }, ctx.blockingTaskExecutor()).thenApplyAsync(refused -> {
            if (refused != null) {
                return refused;
            }
            try {
                return delegate.serve(ctx, req);
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }, ctx.eventLoop()).exceptionally(cause -> {
            log.warn("Could not reach port {} of job {}: {}", target.port(), target.jobId(), cause.toString());
            return page(HttpStatus.BAD_GATEWAY, "Could not reach port " + target.port() + " in the sandbox.");
        }));
    }

    private static HttpResponse refused(JobException e) {
        var status = switch (e.reason()) {
            case NOT_FOUND -> HttpStatus.NOT_FOUND;
            case FAILED_PRECONDITION -> HttpStatus.CONFLICT;
            case INVALID_ARGUMENT -> HttpStatus.BAD_REQUEST;
            case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
            case TOO_LARGE -> HttpStatus.REQUEST_ENTITY_TOO_LARGE;
            case OVER_QUOTA -> HttpStatus.TOO_MANY_REQUESTS;
            case TIMED_OUT -> HttpStatus.GATEWAY_TIMEOUT;
        };
        return page(status, e.getMessage());
    }

    /** A plain page of our own: never cached, and it leaks nothing in a Referer. */
    static HttpResponse page(HttpStatus status, String message) {
        return HttpResponse.of(ResponseHeaders.builder(status)
                .contentType(MediaType.PLAIN_TEXT_UTF_8)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set(HttpHeaderNames.REFERRER_POLICY, "no-referrer")
                .set(HttpHeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff")
                .build(), HttpData.ofUtf8(message + "\n"));
    }
}
