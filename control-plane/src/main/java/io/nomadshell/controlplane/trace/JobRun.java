package io.nomadshell.controlplane.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.time.Instant;
import org.slf4j.MDC;

/**
 * One run of a job on this replica: its {@code job.run} span is the current one on the job's thread
 * (so what the run does nests under it), and the thread's log lines carry the job's and trace's ids
 * (MDC keys {@code job_id}, {@code trace_id}). Close it on the same thread, when the run ends.
 */
public final class JobRun implements AutoCloseable {
    private final Tracer tracer;
    private final String jobId;
    private final Context scheduled;
    private final Span span;
    private final Scope scope;

    JobRun(Tracer tracer, String jobId, Context scheduled, Span span) {
        this.tracer = tracer;
        this.jobId = jobId;
        this.scheduled = scheduled;
        this.span = span;
        this.scope = span.makeCurrent();
        MDC.put("job_id", jobId);
        if (span.getSpanContext().isValid()) {
            MDC.put("trace_id", span.getSpanContext().getTraceId());
        }
    }

    /** The job waited in the queue from {@code createdAt} until now: a sibling of the run, under the schedule. */
    public void queued(Instant createdAt) {
        JobTracer.since(tracer, "job.queue", scheduled, createdAt, jobId);
    }

    /** This run goes on with a job that ran before (on another replica, or before a pause or its end). */
    public void resumed() {
        span.setAttribute(JobTracer.RESUMED, true);
    }

    @Override
    public void close() {
        span.end();
        scope.close();
        MDC.remove("job_id");
        MDC.remove("trace_id");
    }
}
