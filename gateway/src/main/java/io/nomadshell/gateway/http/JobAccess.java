package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.auth.LinkTokens;
import org.jspecify.annotations.Nullable;

/**
 * Who may reach a job's live pages (events, ports, desktop, Jupyter): the owner {@link AccessGuard}
 * authenticated by API key, or a signed link in {@code ?token=} (which then also goes into a cookie
 * scoped to the job's paths, so the page's own requests and WebSockets get in too). The guard lets a
 * request without a key through to these pages only; this is where its link is checked.
 * No credentials → 401; a bad or expired link → 403.
 */
public final class JobAccess {
    /** The query parameter and cookie that carry a signed link. */
    public static final String LINK_PARAM = "token";
    static final String LINK_COOKIE = "nomad_shell_link";

    private final LinkTokens links;

    public JobAccess(LinkTokens links) {
        this.links = requireNonNull(links, "links");
    }

    /** Decides whether the request may reach {@code jobId}. */
    public Decision check(ServiceRequestContext ctx, HttpRequest req, String jobId) {
        var owner = AccessGuard.owner(ctx);
        if (owner != null) {
            return new Decision.Allowed(owner, null);
        }
        var fromQuery = QueryParams.fromQueryString(ctx.query()).get(LINK_PARAM);
        var link = fromQuery != null ? fromQuery : linkCookie(req);
        if (link == null) {
            return denied(HttpStatus.UNAUTHORIZED, Status.Code.UNAUTHENTICATED,
                    ApiKeys.challenge(null) + ", or open a signed link (POST /v1/jobs/{job_id}/links)");
        }
        return switch (links.verify(link, jobId)) {
            case LinkTokens.Verdict.Allowed allowed -> new Decision.Allowed(allowed.owner(),
                    fromQuery == null ? null : Cookie.builder(LINK_COOKIE, fromQuery)
                            .path("/v1/jobs/" + jobId + "/")
                            .sameSite("Lax")
                            .httpOnly(true)
                            .build());
            case LinkTokens.Verdict.Refused refused ->
                    denied(HttpStatus.FORBIDDEN, Status.Code.PERMISSION_DENIED, refused.reason());
        };
    }

    private static @Nullable String linkCookie(HttpRequest req) {
        for (var cookie : req.headers().cookies()) {
            if (cookie.name().equals(LINK_COOKIE)) {
                return cookie.value();
            }
        }
        return null;
    }

    private static Decision denied(HttpStatus status, Status.Code code, String message) {
        return new Decision.Denied(JsonErrors.of(status, code, message));
    }

    /** Whether a request gets in. */
    public sealed interface Decision {
        /** In, as {@code owner}; {@code cookie} is set on the response when the link came in the query. */
        record Allowed(String owner, @Nullable Cookie cookie) implements Decision {}

        record Denied(HttpResponse response) implements Decision {}
    }
}
