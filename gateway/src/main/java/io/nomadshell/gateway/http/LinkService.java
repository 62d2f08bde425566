package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.controlplane.job.JobException;
import java.time.Duration;
import java.util.LinkedHashMap;

/**
 * {@code POST /v1/jobs/{job_id}/links?port=N[&path=/p][&ttl_seconds=S]} or {@code ?service=desktop|jupyter}:
 * a signed link that opens one port of the job's sandbox on its own preview origin, for a browser,
 * which cannot send the API key. Needs the owner's key; answers {@code {"url", "origin", "port",
 * "expires_at"}}. A service is started first if it does not run. The link lasts
 * {@value #DEFAULT_TTL_SECONDS} seconds unless asked otherwise (at most {@value #MAX_TTL_SECONDS}): long
 * enough to be opened, when it becomes a cookie of that preview host.
 */
final class LinkService implements HttpService {
    static final long DEFAULT_TTL_SECONDS = 900;
    static final long MAX_TTL_SECONDS = 3600;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PreviewOpener opener;

    LinkService(PreviewOpener opener) {
        this.opener = requireNonNull(opener, "opener");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var owner = AccessGuard.requireOwner(ctx);
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        var params = QueryParams.fromQueryString(ctx.query());
        long ttl;
        try {
            var given = params.get("ttl_seconds");
            ttl = given == null ? DEFAULT_TTL_SECONDS : Long.parseLong(given);
        } catch (NumberFormatException e) {
            ttl = -1;
        }
        if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
            return invalid("ttl_seconds must be a whole number from 1 to " + MAX_TTL_SECONDS);
        }
        PreviewOpener.Wanted wanted;
        var service = params.get("service");
        var port = params.get("port");
        var path = params.get("path", "/");
        if ((service == null) == (port == null)) {
            return invalid("name either a port (?port=N) or a service (?service=desktop or jupyter)");
        }
        if (service != null) {
            wanted = new PreviewOpener.Wanted.Service(service);
        } else {
            var number = PortNumbers.parse(port);
            if (number == 0) {
                return invalid(PortNumbers.RULE);
            }
            if (!path.startsWith("/")) {
                return invalid("the path must start with '/'");
            }
            wanted = new PreviewOpener.Wanted.Port(number, path);
        }
        var lifetime = Duration.ofSeconds(ttl);
        ctx.clearRequestTimeout();
        // The body (if any) is read and ignored: a response sent before the request ends would reset it.
        return HttpResponse.of(req.aggregate().thenApplyAsync(ignored -> {
            try {
                var link = opener.open(owner, jobId, wanted, lifetime);
                var body = new LinkedHashMap<String, Object>();
                body.put("url", link.url());
                body.put("origin", link.origin());
                body.put("port", link.port());
                body.put("expires_at", link.expiresAt().toString());
                return HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8, JSON.writeValueAsString(body));
            } catch (JobException e) {
                return JobErrors.of(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return HttpResponse.ofFailure(e);
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }, ctx.blockingTaskExecutor()));
    }

    private static HttpResponse invalid(String message) {
        return JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT, message);
    }
}
