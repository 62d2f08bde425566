package io.nomadshell.controlplane.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's trace context goes into Redis with the job and comes out for whichever replica runs it:
 * against a real redis-server, with the SDK recording in memory; a second store stands for another replica.
 */
class TraceparentRoundTripTest {
    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection scheduling;
    static RedisConnection running;

    private final InMemorySpanExporter exported = InMemorySpanExporter.create();
    private final JobTracer tracer = new JobTracer(OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build())
            .build());

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        scheduling = RedisConnection.connect(redis.url(), "scheduling-replica");
        running = RedisConnection.connect(redis.url(), "running-replica");
    }

    @AfterAll
    static void stopRedis() {
        scheduling.close();
        running.close();
        redis.close();
    }

    @Test
    void theRunOnAnotherReplicaGoesOnWithTheSchedulesTrace() {
        var schedule = tracer.schedule("alice");
        var createdAt = Instant.now();
        var id = new JobStore(scheduling).create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, createdAt,
                null, KeyQuota.unlimited("alice"), Traceparent.of(schedule), Map.of());
        schedule.end();

        var stored = new JobStore(running).traceparentOf(id);
        assertThat(stored).hasValueSatisfying(traceparent -> assertThat(traceparent).startsWith("00-"
                + schedule.getSpanContext().getTraceId() + "-" + schedule.getSpanContext().getSpanId() + "-"));
        try (var run = tracer.run(id, stored.orElseThrow())) {
            run.queued(createdAt);
            tracer.launch("TestLauncher").end();
        }

        var scheduled = span("job.schedule");
        assertThat(exported.getFinishedSpanItems()).hasSize(4)
                .allSatisfy(span -> assertThat(span.getTraceId()).isEqualTo(scheduled.getTraceId()));
        assertThat(span("job.queue").getParentSpanId()).isEqualTo(scheduled.getSpanId());
        assertThat(span("job.queue").getStartEpochNanos()).isEqualTo(createdAt.getEpochSecond() * 1_000_000_000L
                + createdAt.getNano());
        assertThat(span("job.run").getParentSpanId()).isEqualTo(scheduled.getSpanId());
        assertThat(span("sandbox.launch").getParentSpanId()).isEqualTo(span("job.run").getSpanId());
    }

    @Test
    void aJobScheduledWithoutTracingKeepsNoneAndItsRunStartsATraceOfItsOwn() {
        var id = new JobStore(scheduling).create(JobIds.next(), "bob", "build it", SandboxResources.DEFAULT,
                Instant.now(), null, KeyQuota.unlimited("bob"), Traceparent.of(Span.getInvalid()), Map.of());

        var stored = new JobStore(running).traceparentOf(id);
        assertThat(stored).isEmpty();
        try (var run = tracer.run(id, null)) {
            assertThat(Span.current().getSpanContext().isValid()).isTrue();
        }
        assertThat(span("job.run").getParentSpanContext().isValid()).as("a root").isFalse();
    }

    @Test
    void aTraceparentThatDoesNotParseStartsATraceOfItsOwn() {
        assertThat(Span.fromContext(Traceparent.parse("00-not-a-trace")).getSpanContext().isValid()).isFalse();
        assertThat(Traceparent.of(Span.getInvalid())).isEmpty();
    }

    private SpanData span(String name) {
        return exported.getFinishedSpanItems().stream().filter(span -> span.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + exported.getFinishedSpanItems()));
    }
}
