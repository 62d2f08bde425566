package io.nomadshell.gateway.http;

import io.nomadshell.gateway.auth.AccessGuard;
import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import java.util.concurrent.CompletableFuture;

/**
 * {@code GET /v1/jobs/{job_id}/screenshots/{call_id}}: a screenshot the job's computer tool took,
 * as PNG, for the links in its {@code screenshot} events. Same access as the job's events.
 */
final class ScreenshotService implements HttpService {
    private final JobManager jobs;

    ScreenshotService(JobManager jobs) {
        this.jobs = requireNonNull(jobs, "jobs");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        var callId = requireNonNull(ctx.pathParam("call_id"), "call_id");
        var owner = AccessGuard.requireOwner(ctx);
        // A Redis round trip and a file read: off the event loop.
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                var png = jobs.screenshot(owner, jobId, callId);
                var headers = ResponseHeaders.builder(HttpStatus.OK)
                        .contentType(MediaType.PNG)
                        // A call's screenshot never changes.
                        .set(HttpHeaderNames.CACHE_CONTROL, "private, max-age=86400, immutable");
                return HttpResponse.of(headers.build(), HttpData.wrap(png));
            } catch (JobException e) {
                return JobErrors.of(e);
            }
        }, ctx.blockingTaskExecutor()));
    }
}
