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
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/jobs/{job_id}/desktop}: starts the sandbox's desktop unless it runs (Xvfb, x11vnc,
 * websockify serving noVNC), then sends the browser to noVNC through the port proxy, with its
 * WebSocket pointed back through the proxy too. A signed link in the query becomes a cookie on the
 * way, so noVNC's own requests get in.
 */
final class DesktopService implements HttpService {
    private static final Logger log = LoggerFactory.getLogger(DesktopService.class);

    private final JobManager jobs;
    private final JobTunnels tunnels;
    private final JobAccess access;

    DesktopService(JobManager jobs, JobTunnels tunnels, JobAccess access) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.tunnels = requireNonNull(tunnels, "tunnels");
        this.access = requireNonNull(access, "access");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        var decision = access.check(ctx, req, jobId);
        if (decision instanceof JobAccess.Decision.Denied denied) {
            return denied.response();
        }
        var allowed = (JobAccess.Decision.Allowed) decision;
        ctx.clearRequestTimeout();
        // The ownership check (Redis) and starting the desktop (a call over Attach) block: off the event loop.
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                jobs.get(allowed.owner(), jobId);
                int port = tunnels.ensureService(jobId, "desktop");
                var ports = "v1/jobs/" + jobId + "/ports/" + port;
                var headers = ResponseHeaders.builder(HttpStatus.FOUND).set(HttpHeaderNames.LOCATION,
                        "/" + ports + "/vnc.html?autoconnect=true&resize=remote&path=" + ports + "/websockify");
                if (allowed.cookie() != null) {
                    headers.cookie(requireNonNull(allowed.cookie(), "cookie"));
                }
                return HttpResponse.of(headers.build());
            } catch (JobException e) {
                return JobErrors.of(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the desktop", e);
            }
        }, ctx.blockingTaskExecutor()).exceptionally(cause -> {
            log.warn("Could not start the desktop of job {}: {}", jobId, cause.toString());
            return JsonErrors.of(HttpStatus.BAD_GATEWAY, Status.Code.UNAVAILABLE,
                    "could not start the desktop in the sandbox");
        }));
    }
}
