package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.file.HttpFile;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.tunnel.CarriedFile;
import io.nomadshell.controlplane.tunnel.KeptFiles;
import io.nomadshell.gateway.auth.AccessGuard;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * {@code GET /download/{job_id}}: the job's zip, streamed from disk (transcoding would buffer it
 * whole): a complete job's project, or the partial zip of one that failed or was cancelled. 404 for a
 * job the caller cannot see, 409 before the job has ended or when it left nothing (the message says
 * why). The caller is the owner {@link AccessGuard} authenticated.
 *
 * <p>The job is looked up on a virtual thread of its own; the zip is then read a chunk at a time, each
 * only when the client has taken the last (the response stream's demand), on the route's own
 * readers ({@code ctx.blockingTaskExecutor()}): a slow client holds one chunk, and no thread while it
 * reads it. A zip kept on another replica's disk is read the same way from that replica's connection
 * ({@link CarriedFile}), so the client's pace reaches the replica sending it; 503 in words when that
 * replica is not running.
 */
public final class DownloadService implements HttpService {
    private static final int CHUNK_BYTES = 64 * 1024;
    private static final Executor LOOKUPS = task -> Thread.ofVirtual().name("download-lookup").start(task);

    private final JobManager jobs;

    public DownloadService(JobManager jobs) {
        this.jobs = requireNonNull(jobs, "jobs");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var owner = AccessGuard.requireOwner(ctx);
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        // Looking the job up is a Redis round trip: keep it off the event loop.
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                var zip = jobs.artifact(owner, jobId);
                // A zip of hundreds of MB over a slow link takes as long as it takes.
                ctx.clearRequestTimeout();
                var disposition = "attachment; filename=\"" + jobId + ".zip\"";
                return switch (zip) {
                    case KeptFiles.Here here -> HttpFile.builder(here.path())
                            .contentType(MediaType.ZIP)
                            .setHeader(HttpHeaderNames.CONTENT_DISPOSITION, disposition)
                            .build()
                            .asService()
                            .serve(ctx, req);
                    case CarriedFile carried -> HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK)
                            .contentType(MediaType.ZIP)
                            .contentLength(carried.bytes())
                            .set(HttpHeaderNames.CONTENT_DISPOSITION, disposition)
                            .build(), StreamMessage.builder(carried.open())
                            .executor(ctx.blockingTaskExecutor())
                            .bufferSize(CHUNK_BYTES)
                            .build());
                };
            } catch (JobException e) {
                return JobErrors.of(e);
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }, ctx.makeContextAware(LOOKUPS)));
    }
}
