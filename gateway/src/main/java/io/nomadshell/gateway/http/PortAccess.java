package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In front of the port proxy: checks who asks ({@link JobAccess}) and that the job is theirs, finds
 * the tunnel bridge to the port, and records the {@link PortTarget}; the proxy behind it only moves
 * bytes. The link parameter never reaches the sandbox.
 */
final class PortAccess implements DecoratingHttpServiceFunction {
    private static final Logger log = LoggerFactory.getLogger(PortAccess.class);
    private final JobManager jobs;
    private final JobTunnels tunnels;
    private final JobAccess access;
    private final Function<ServiceRequestContext, Upstream> upstream;

    /** {@code upstream} says which port and path a request is for (or throws NumberFormatException). */
    PortAccess(JobManager jobs, JobTunnels tunnels, JobAccess access, Function<ServiceRequestContext, Upstream> upstream) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.tunnels = requireNonNull(tunnels, "tunnels");
        this.access = requireNonNull(access, "access");
        this.upstream = requireNonNull(upstream, "upstream");
    }

    /**
     * The port and the path (without query) a request goes to; with a {@code service}, the port is
     * the one the sandbox says that service answers on, after it has been started on demand.
     */
    record Upstream(int port, String path, @Nullable String service) {
        Upstream(int port, String path) {
            this(port, path, null);
        }
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        var jobId = requireNonNull(ctx.pathParam("jobid"), "jobid");
        var decision = access.check(ctx, req, jobId);
        if (decision instanceof JobAccess.Decision.Denied denied) {
            return denied.response();
        }
        var allowed = (JobAccess.Decision.Allowed) decision;
        Upstream target;
        try {
            target = upstream.apply(ctx);
        } catch (NumberFormatException e) {
            return JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT, "the port must be a number from 1 to 65535");
        }
        if (allowed.cookie() != null) {
            ctx.mutateAdditionalResponseHeaders(headers -> headers.add(HttpHeaderNames.SET_COOKIE,
                    requireNonNull(allowed.cookie(), "cookie").toSetCookieHeader()));
        }
        ctx.clearRequestTimeout();
        // The ownership check, starting the service and the bridge are Redis, Attach and socket work:
        // off the event loop, then back on it.
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                jobs.get(allowed.owner(), jobId);
                var service = target.service();
                int port = service == null ? target.port() : tunnels.ensureService(jobId, service);
                var socket = tunnels.bridge(jobId, port);
                ctx.setAttr(PortTarget.KEY, new PortTarget(port, socket, target.path() + query(ctx)));
                return (HttpResponse) null;
            } catch (JobException e) {
                return JobErrors.of(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the service", e);
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
            log.warn("Could not reach port {} of job {}: {}", target.port(), jobId, cause.toString());
            return JsonErrors.of(HttpStatus.BAD_GATEWAY, Status.Code.UNAVAILABLE,
                    "could not reach port " + target.port() + " in the sandbox");
        }));
    }

    private static String query(ServiceRequestContext ctx) {
        if (ctx.query() == null) {
            return "";
        }
        var params = QueryParams.fromQueryString(ctx.query()).toBuilder().removeAndThen(JobAccess.LINK_PARAM).build();
        return params.isEmpty() ? "" : "?" + params.toQueryString();
    }
}
