package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.controlplane.job.JobException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's doors to a sandbox, which it no longer serves itself: {@code /v1/jobs/{job_id}/desktop}
 * and {@code /jupyter} start their service on demand, and {@code /ports/{port}/...} names a page;
 * each answers with a redirect to that page on the port's preview origin, carrying a fresh link.
 * Needs the owner's key (a browser asks {@code POST /links} instead).
 */
final class PreviewRedirect implements HttpService {
    private static final Logger log = LoggerFactory.getLogger(PreviewRedirect.class);
    /** The link only has to survive the redirect. */
    private static final Duration LIFETIME = Duration.ofMinutes(2);

    private final PreviewOpener opener;
    private final HttpStatus status;
    private final Function<ServiceRequestContext, PreviewOpener.@Nullable Wanted> wanted;

    /** {@code wanted} says what a request asks for; null when it names no valid port. */
    PreviewRedirect(PreviewOpener opener, HttpStatus status,
            Function<ServiceRequestContext, PreviewOpener.@Nullable Wanted> wanted) {
        this.opener = requireNonNull(opener, "opener");
        this.status = requireNonNull(status, "status");
        this.wanted = requireNonNull(wanted, "wanted");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var owner = AccessGuard.requireOwner(ctx);
        var jobId = requireNonNull(ctx.pathParam("jobid"), "jobid");
        var what = wanted.apply(ctx);
        if (what == null) {
            return JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT, PortNumbers.RULE);
        }
        ctx.clearRequestTimeout();
        // The ownership check (Redis) and starting a service (a call over Attach) block: off the event loop.
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                var link = opener.open(owner, jobId, what, LIFETIME);
                return HttpResponse.of(ResponseHeaders.builder(status)
                        .set(HttpHeaderNames.LOCATION, link.url())
                        .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                        .build());
            } catch (JobException e) {
                return JobErrors.of(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while opening a preview", e);
            }
        }, ctx.blockingTaskExecutor()).exceptionally(cause -> {
            log.warn("Could not open a preview of job {}: {}", jobId, cause.toString());
            return JsonErrors.of(HttpStatus.BAD_GATEWAY, Status.Code.UNAVAILABLE, "could not open the preview");
        }));
    }
}
