package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.stream.StreamWriter;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.proto.v1.JobEvent;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /v1/jobs/{job_id}/events}: the job's events as Server-Sent Events, the same ones
 * {@code WatchJob} streams. Each event's {@code id} is its sequence; a client that reconnects with
 * {@code Last-Event-ID} (or {@code ?after=N}) gets exactly the events after it. The stream ends with
 * an {@code end} event once the job has ended and every event was sent; idle streams get a comment
 * every {@link #KEEPALIVE} so proxies keep them open.
 *
 * <p>Each watcher follows the job on its own virtual thread, from the job's one shared reader of
 * events, and sends under the client's flow control ({@link SseBatches}): a slow watcher holds a small
 * window of text and slows nobody else, the job least of all. Each event is rendered once for all
 * its watchers ({@link SseText}). Nothing of a stream runs on the blocking pool that unary calls
 * need, not even its first lookup.
 */
public final class EventStreamService implements HttpService {
    static final Duration KEEPALIVE = Duration.ofSeconds(10);
    /** A virtual thread per task: streams never wait for, nor take, a pooled thread. */
    private static final Executor STREAMS = task -> Thread.ofVirtual().name("sse").start(task);

    private final JobManager jobs;
    private final AtomicInteger watchers = new AtomicInteger();
    private final SseText text = new SseText();

    public EventStreamService(JobManager jobs) {
        this.jobs = requireNonNull(jobs, "jobs");
    }

    /** Clients following a job's events right now. */
    public int watchers() {
        return watchers.get();
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        var owner = AccessGuard.requireOwner(ctx);
        long after;
        try {
            after = resumePoint(req, ctx);
        } catch (NumberFormatException e) {
            return JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT,
                    "Last-Event-ID and ?after= must be a whole number of at least 0 (the last sequence seen)");
        }
        return HttpResponse.of(CompletableFuture.supplyAsync(() -> {
            try {
                jobs.get(owner, jobId);
            } catch (JobException e) {
                return JobErrors.of(e);
            }
            ctx.clearRequestTimeout();
            StreamWriter<HttpData> writer = StreamMessage.streaming();
            var out = new SseBatches(writer);
            var keepalive = ctx.eventLoop().scheduleAtFixedRate(() -> out.offer(SseText.comment("keepalive")),
                    KEEPALIVE.toMillis(), KEEPALIVE.toMillis(), TimeUnit.MILLISECONDS);
            writer.whenComplete().handle((ignored, error) -> keepalive.cancel(false));
            Thread.ofVirtual().name("sse-" + jobId).start(() -> pump(owner, jobId, after, writer, out));
            var headers = ResponseHeaders.builder(HttpStatus.OK)
                    .contentType(MediaType.EVENT_STREAM)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
            return HttpResponse.of(headers.build(), writer);
        }, STREAMS));
    }

    private void pump(String owner, String jobId, long after, StreamWriter<HttpData> writer, SseBatches out) {
        watchers.incrementAndGet();
        try {
            jobs.watch(owner, jobId, after, event -> send(out, event), () -> !writer.isOpen());
            if (writer.isOpen()) {
                out.close(SseText.named("end", "{}"));
            }
        } catch (InterruptedException e) {
            writer.abort(e);
        } catch (RuntimeException e) {
            writer.abort(e);
        } finally {
            watchers.decrementAndGet();
        }
    }

    private void send(SseBatches out, JobEvent event) {
        try {
            out.add(text.of(event));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long resumePoint(HttpRequest req, ServiceRequestContext ctx) {
        @Nullable String given = req.headers().get(HttpHeaderNames.LAST_EVENT_ID);
        if (given == null) {
            given = QueryParams.fromQueryString(ctx.query()).get("after");
        }
        if (given == null || given.isEmpty()) {
            return 0;
        }
        long after = Long.parseLong(given.strip());
        if (after < 0) {
            throw new NumberFormatException("negative");
        }
        return after;
    }

}
