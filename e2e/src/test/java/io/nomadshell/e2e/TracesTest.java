package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.e2e.OtlpReceiver.Received;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real server, traced through the SDK's standard variables to an OTLP receiver on loopback: each job
 * is one trace, schedule → queue → run → launch, attach, model calls (with their tokens), tool calls
 * (with exit codes) and the daemon's side of each, archive; a second job is a trace of its own. The
 * daemon sends its side over Attach: it has no tracing library to send it any other way.
 */
class TracesTest {
    private static final long SPANS_WAIT_MS = 30_000;
    /** A caller's span, as a client already tracing would send it. */
    private static final String CALLERS_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void eachJobIsOneTraceWithEveryStepAndTheDaemonsSide(@TempDir Path tmp) throws Exception {
        try (var receiver = OtlpReceiver.start();
                var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("traced-tools", tmp, "")).build()
                        .start();
                var server = ServerProcess.start(Map.of(
                                "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
                                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                                // Sent at once, so the test need not wait the default five seconds.
                                "OTEL_BSP_SCHEDULE_DELAY", "50"),
                        List.of(), tmp.resolve("data"), null, model.baseUrl(), tmp.resolve("server.log"))) {
            var rest = server.rest();
            var first = rest.schedule("run two commands and write a file");
            var second = rest.schedule("the same again, beside it", "traceparent", CALLERS_TRACEPARENT);
            for (var job : List.of(first, second)) {
                assertThat(rest.awaitEnd(job, Duration.ofSeconds(60)).last().path("status").asText()).as(server.tail())
                        .isEqualTo("complete");
            }

            var firstTrace = traceOf(receiver, first);
            var secondTrace = traceOf(receiver, second);
            assertThat(secondTrace).as("the second job's trace").isNotEqualTo(firstTrace);
            assertThat(secondTrace).as("a caller's traceparent makes the job part of its trace")
                    .isEqualTo(CALLERS_TRACEPARENT.split("-")[1]);
            var secondSchedule = one(receiver.spans().stream().filter(span -> span.traceId().equals(secondTrace)).toList(),
                    "job.schedule");
            assertThat(secondSchedule.parentSpanId()).as("the caller's span is the schedule's parent")
                    .isEqualTo(CALLERS_TRACEPARENT.split("-")[2]);
            var spans = receiver.spans().stream().filter(span -> span.traceId().equals(firstTrace)).toList();
            assertThat(spans).allSatisfy(span -> assertThat(span.attribute("nomad_shell.job.id")).isIn("", first));

            var schedule = one(spans, "job.schedule");
            assertThat(schedule.parentSpanId()).as("the schedule is the trace's root").isEmpty();
            assertThat(schedule.resource()).containsEntry("service.name", "nomad-shell");
            assertThat(one(spans, "job.queue").parentSpanId()).isEqualTo(schedule.spanId());
            var run = one(spans, "job.run");
            assertThat(run.parentSpanId()).isEqualTo(schedule.spanId());
            assertThat(one(spans, "sandbox.launch")).satisfies(launch -> {
                assertThat(launch.parentSpanId()).isEqualTo(run.spanId());
                assertThat(launch.attribute("nomad_shell.launcher")).isEqualTo("LocalLauncher");
            });
            assertThat(one(spans, "sandbox.attach").parentSpanId()).isEqualTo(run.spanId());
            var archive = one(spans, "job.archive");
            assertThat(archive.parentSpanId()).isEqualTo(run.spanId());

            var chats = named(spans, "chat scripted");
            assertThat(chats).as("one span per model call").hasSize(4).allSatisfy(chat -> {
                assertThat(chat.parentSpanId()).isEqualTo(run.spanId());
                assertThat(chat.attribute("gen_ai.operation.name")).isEqualTo("chat");
                assertThat(chat.attribute("gen_ai.request.model")).isEqualTo("scripted");
                assertThat(Long.parseLong(chat.attribute("gen_ai.usage.input_tokens"))).isPositive();
                assertThat(Long.parseLong(chat.attribute("gen_ai.usage.output_tokens"))).isPositive();
            });

            var execs = named(spans, "execute_tool exec");
            assertThat(execs).hasSize(2).allSatisfy(exec -> assertThat(exec.parentSpanId()).isEqualTo(run.spanId()));
            assertThat(execs).extracting(exec -> exec.attribute("process.exit.code")).containsExactlyInAnyOrder("0", "3");
            var write = one(spans, "execute_tool write_file");
            assertThat(write.parentSpanId()).isEqualTo(run.spanId());
            var zip = one(spans, "execute_tool archive");
            assertThat(zip.parentSpanId()).as("the archive's call to the daemon").isEqualTo(archive.spanId());

            // The daemon's side of each call: a child of the call, within it, under the daemon's name.
            for (var call : Stream.of(execs.stream(), Stream.of(write, zip)).flatMap(s -> s).toList()) {
                var daemon = spans.stream().filter(span -> span.parentSpanId().equals(call.spanId())).toList();
                assertThat(daemon).as("the daemon's span of %s", call.name()).singleElement().satisfies(side -> {
                    assertThat(side.name()).isEqualTo("daemon " + call.attribute("gen_ai.tool.name"));
                    assertThat(side.attribute("service.name")).isEqualTo("nomad-shell-daemon");
                    assertThat(side.startNanos()).isBetween(call.startNanos(), call.endNanos());
                    assertThat(side.endNanos()).isBetween(side.startNanos(), call.endNanos());
                });
            }

            // The job's log lines name its job and its trace.
            assertThat(server.log()).contains(" job=" + first + " trace=" + firstTrace + " - ");
        }
    }

    @Test
    void theDaemonCarriesNoTracingLibrary() throws IOException {
        var lib = TestCluster.daemonJar().resolveSibling("lib");
        try (var jars = Files.list(lib)) {
            assertThat(jars.map(jar -> jar.getFileName().toString()))
                    .isNotEmpty().noneMatch(name -> name.startsWith("opentelemetry"));
        }
    }

    /** The trace of the job's run, once its spans (the run ends last) have come. */
    private static String traceOf(OtlpReceiver receiver, String jobId) throws InterruptedException {
        var run = receiver.await(span -> span.name().equals("job.run") && span.attribute("nomad_shell.job.id").equals(jobId),
                SPANS_WAIT_MS);
        assertThat(run).as("the run span of job %s among %s", jobId, receiver.spans()).isPresent();
        var schedule = receiver.await(span -> span.name().equals("job.schedule")
                && span.attribute("nomad_shell.job.id").equals(jobId), SPANS_WAIT_MS);
        assertThat(schedule).as("the schedule span of job %s", jobId).isPresent();
        assertThat(run.get().traceId()).as("the run goes on with the schedule's trace").isEqualTo(schedule.get().traceId());
        return run.get().traceId();
    }

    private static Received one(List<Received> spans, String name) {
        var found = named(spans, name);
        assertThat(found).as("spans named %s among %s", name, names(spans)).hasSize(1);
        return found.getFirst();
    }

    private static List<Received> named(List<Received> spans, String name) {
        return spans.stream().filter(span -> span.name().equals(name)).toList();
    }

    private static Set<String> names(List<Received> spans) {
        return spans.stream().map(Received::name).collect(java.util.stream.Collectors.toSet());
    }
}
