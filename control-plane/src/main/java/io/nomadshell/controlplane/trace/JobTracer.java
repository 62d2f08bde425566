package io.nomadshell.controlplane.trace;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.v1.DaemonSpan;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The spans of a job, one trace per job: {@code job.schedule} is its root; {@code job.queue} (from the
 * schedule until a replica took the job) and {@code job.run} (one per replica that runs it) are its
 * children; launch, attach, model calls, tool calls and the archive are children of the run, and the
 * daemon's side of a tool call a child of that call. All but schedule and queue take the current
 * context as their parent: the job's thread runs under its {@link JobRun}.
 *
 * <p>Attribute names are OpenTelemetry's semantic conventions where there are some ({@code gen_ai.*},
 * {@code process.exit.code}); the rest are {@code nomad_shell.*}.
 */
public final class JobTracer {
    /** Spans nowhere, for tests and servers without tracing. */
    public static final JobTracer NOOP = new JobTracer(OpenTelemetry.noop());

    public static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("nomad_shell.job.id");
    private static final AttributeKey<String> OWNER = AttributeKey.stringKey("nomad_shell.job.owner");
    static final AttributeKey<Boolean> RESUMED = AttributeKey.booleanKey("nomad_shell.job.resumed");
    private static final AttributeKey<String> LAUNCHER = AttributeKey.stringKey("nomad_shell.launcher");
    private static final AttributeKey<Boolean> PARTIAL = AttributeKey.booleanKey("nomad_shell.archive.partial");
    private static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    private static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    private static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    private static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    private static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    private static final AttributeKey<List<String>> FINISH_REASONS =
            AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
    private static final AttributeKey<String> TOOL_NAME = AttributeKey.stringKey("gen_ai.tool.name");
    private static final AttributeKey<String> TOOL_CALL_ID = AttributeKey.stringKey("gen_ai.tool.call.id");
    private static final AttributeKey<Long> EXIT_CODE = AttributeKey.longKey("process.exit.code");
    private static final AttributeKey<Boolean> TIMED_OUT = AttributeKey.booleanKey("nomad_shell.tool.timed_out");
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
    static final String DAEMON_SERVICE = "nomad-shell-daemon";

    private final Tracer tracer;

    public JobTracer(OpenTelemetry openTelemetry) {
        this.tracer = requireNonNull(openTelemetry, "openTelemetry").getTracer("io.nomadshell.controlplane");
    }

    /** The root of a job's trace (or a child of the caller's, when a request carried one); end it once the job is stored. */
    public Span schedule(String owner) {
        return tracer.spanBuilder("job.schedule").setSpanKind(SpanKind.SERVER).setAttribute(OWNER, owner).startSpan();
    }

    /**
     * A run of the job on this replica, under the job's trace when {@code traceparent} names it (a job
     * scheduled without tracing, or forked, starts a trace of its own). Close it when the run ends.
     */
    public JobRun run(String jobId, @Nullable String traceparent) {
        var parent = Traceparent.parse(traceparent);
        var span = tracer.spanBuilder("job.run").setParent(parent).setAttribute(JOB_ID, jobId).startSpan();
        return new JobRun(tracer, jobId, parent, span);
    }

    /** Starting the job's sandbox with {@code launcher}. */
    public Span launch(String launcher) {
        return tracer.spanBuilder("sandbox.launch").setAttribute(LAUNCHER, launcher).startSpan();
    }

    /** From the launch (or the claim of a warm sandbox) until its daemon has attached; ends on another thread. */
    public Span attach() {
        return tracer.spanBuilder("sandbox.attach").startSpan();
    }

    /** Zipping the job's workspace and storing the zip. */
    public Span archive(boolean partial) {
        return tracer.spanBuilder("job.archive").setAttribute(PARTIAL, partial).startSpan();
    }

    /** One call to the model (its retries included), named as the GenAI conventions name a chat. */
    public Span modelCall(String model) {
        return tracer.spanBuilder("chat " + model).setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, "chat").setAttribute(REQUEST_MODEL, model).startSpan();
    }

    /** What a model call used and why its answer ended. */
    public static void answered(Span span, String model, long inputTokens, long outputTokens, String finishReason) {
        span.setAttribute(RESPONSE_MODEL, model).setAttribute(INPUT_TOKENS, inputTokens)
                .setAttribute(OUTPUT_TOKENS, outputTokens).setAttribute(FINISH_REASONS, List.of(finishReason));
    }

    /** One tool call sent to the daemon; its traceparent goes with the call. */
    public Span toolCall(ToolCall call) {
        var name = toolName(call);
        return tracer.spanBuilder("execute_tool " + name).setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, "execute_tool").setAttribute(TOOL_NAME, name)
                .setAttribute(TOOL_CALL_ID, call.getCallId()).startSpan();
    }

    /**
     * What the daemon said of the call: its exit code, its error, and its own span (by the daemon's
     * clock), recorded as a child of the call's under the daemon's service name.
     */
    public void toolResult(Span callSpan, ToolResult result) {
        if (result.hasExec()) {
            callSpan.setAttribute(EXIT_CODE, (long) result.getExec().getExitCode());
            callSpan.setAttribute(TIMED_OUT, result.getExec().getTimedOut());
        }
        if (!result.getError().isEmpty()) {
            callSpan.setStatus(StatusCode.ERROR, result.getError());
        }
        if (!result.hasDaemonSpan() || !callSpan.getSpanContext().isValid()) {
            return;
        }
        DaemonSpan side = result.getDaemonSpan();
        var builder = tracer.spanBuilder("daemon " + side.getAttributesOrDefault("tool", "call"))
                .setParent(Context.current().with(callSpan))
                .setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(side.getStartUnixNanos(), TimeUnit.NANOSECONDS)
                .setAttribute(SERVICE_NAME, DAEMON_SERVICE);
        side.getAttributesMap().forEach((key, value) -> builder.setAttribute("nomad_shell.daemon." + key, value));
        builder.startSpan().end(side.getEndUnixNanos(), TimeUnit.NANOSECONDS);
    }

    /** Marks the span failed with a reason in words. */
    public static void failed(Span span, String reason) {
        span.setStatus(StatusCode.ERROR, reason);
    }

    /** Marks the span failed by an exception. */
    public static void failed(Span span, Throwable error) {
        span.recordException(error);
        span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
    }

    /** The tool's name as the proto's action says it: exec, write_file, archive, ... */
    static String toolName(ToolCall call) {
        return call.getActionCase().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A span that covers {@code from} until now, a child of {@code parent}. */
    static void since(Tracer tracer, String name, Context parent, Instant from, String jobId) {
        tracer.spanBuilder(name).setParent(parent).setStartTimestamp(from).setAttribute(JOB_ID, jobId).startSpan().end();
    }
}
