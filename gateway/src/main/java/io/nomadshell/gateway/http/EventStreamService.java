package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.stream.StreamWriter;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.streaming.ServerSentEvents;
import io.grpc.Status;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.proto.v1.JobEvent;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /v1/jobs/{job_id}/events}: the job's events as Server-Sent Events, the same ones
 * {@code WatchJob} streams. Each event's {@code id} is its sequence; a client that reconnects with
 * {@code Last-Event-ID} (or {@code ?after=N}) gets exactly the events after it. The stream ends with
 * an {@code end} event once the job has ended and every event was sent; idle streams get a comment
 * every {@link #KEEPALIVE} so proxies keep them open.
 *
 * <p>Each watcher reads the job's events from Redis on its own virtual thread and hands on one
 * event at a time, waiting until the client took the last one: a slow watcher holds one event in
 * memory and slows nobody else, the job least of all. Nothing of a stream runs on the blocking pool
 * that unary calls need, not even its first lookup.
 */
public final class EventStreamService implements HttpService {
    static final Duration KEEPALIVE = Duration.ofSeconds(10);
    private static final JsonFormat.Printer JSON =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
    private static final Duration CONSUME_WAIT = Duration.ofSeconds(1);
    /** A virtual thread per task: streams never wait for, nor take, a pooled thread. */
    private static final Executor STREAMS = task -> Thread.ofVirtual().name("sse").start(task);

    private final JobManager jobs;
    private final AtomicInteger watchers = new AtomicInteger();

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
            StreamWriter<ServerSentEvent> writer = StreamMessage.streaming();
            var keepalive = ctx.eventLoop().scheduleAtFixedRate(() -> writer.tryWrite(ServerSentEvent.ofComment("keepalive")),
                    KEEPALIVE.toMillis(), KEEPALIVE.toMillis(), TimeUnit.MILLISECONDS);
            writer.whenComplete().handle((ignored, error) -> keepalive.cancel(false));
            Thread.ofVirtual().name("sse-" + jobId).start(() -> pump(owner, jobId, after, writer));
            var headers = ResponseHeaders.builder(HttpStatus.OK)
                    .contentType(MediaType.EVENT_STREAM)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
            return ServerSentEvents.fromPublisher(headers.build(), writer);
        }, STREAMS));
    }

    private void pump(String owner, String jobId, long after, StreamWriter<ServerSentEvent> writer) {
        watchers.incrementAndGet();
        try {
            jobs.watch(owner, jobId, after, event -> send(writer, event), () -> !writer.isOpen());
            if (writer.tryWrite(ServerSentEvent.builder().event("end").data("{}").build())) {
                writer.close();
            }
        } catch (InterruptedException e) {
            writer.abort(e);
        } catch (RuntimeException e) {
            writer.abort(e);
        } finally {
            watchers.decrementAndGet();
        }
    }

    private static void send(StreamWriter<ServerSentEvent> writer, JobEvent event) {
        if (!writer.tryWrite(ServerSentEvent.builder()
                .id(Long.toString(event.getSequence()))
                .event(event.getKindCase().name().toLowerCase(Locale.ROOT))
                .data(json(event))
                .build())) {
            return;
        }
        // One event in hand at a time: wait until the client took it (or left).
        var consumed = writer.whenConsumed();
        while (writer.isOpen()) {
            try {
                consumed.get(CONSUME_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                // Still open and still slow: keep waiting.
            } catch (ExecutionException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
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

    private static String json(JobEvent event) {
        try {
            return JSON.print(event);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
