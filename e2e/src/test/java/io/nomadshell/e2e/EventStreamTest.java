package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/jobs/{id}/events} (SSE) and {@code WatchJob}: the same events, numbered; a watcher
 * that drops after event k and comes back gets k+1..n, each once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventStreamTest {
    private static final String KEY = "events-key";
    private static final Map<String, String> AUTH = Map.of("Authorization", "Bearer " + KEY);
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private ScriptedModelServer model;
    private TestCluster cluster;
    private ManagedChannel channel;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2, ApiKeys.of(Set.of(KEY, "someone-else")));
        channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void sseReconnectWithLastEventIdGetsTheRestExactlyOnce() throws IOException {
        var id = cluster.rest(KEY).schedule(Fixtures.HELLO_TASK);
        int k = 3;
        // Live from the first event; drop the connection after the k-th.
        var first = Sse.read(events(id), AUTH, seen -> dispatched(seen) == k, TIMEOUT);
        assertThat(first.status()).as(first.errorBody()).isEqualTo(200);
        assertThat(ids(first.dispatched())).containsExactly(1L, 2L, 3L);

        var rest = Sse.read(events(id), Map.of("Authorization", "Bearer " + KEY, "Last-Event-ID", Long.toString(k)),
                seen -> false, TIMEOUT);
        assertThat(rest.status()).as(rest.errorBody()).isEqualTo(200);
        var resumed = rest.dispatched();
        assertThat(resumed.getLast().event()).as("the stream ends with an end event").isEqualTo("end");
        var numbered = resumed.subList(0, resumed.size() - 1);
        long n = k + numbered.size();
        assertThat(ids(numbered)).containsExactlyElementsOf(LongStream.rangeClosed(k + 1, n).boxed().toList());
        for (var event : numbered) {
            JsonNode data = Rest.JSON.readTree(event.data());
            assertThat(data.path("job_id").asText()).isEqualTo(id);
            assertThat(data.path("sequence").asLong()).isEqualTo(Long.parseLong(event.id()));
            assertThat(event.event()).isNotBlank();
        }
        // The zip is announced, then the terminal status comes last.
        assertThat(numbered.get(numbered.size() - 2).event()).isEqualTo("artifact_ready");
        assertThat(numbered.getLast().event()).isEqualTo("status_changed");
        assertThat(numbered.getLast().data()).contains("\"complete\"");

        // The same history, in full, as gRPC streams it.
        assertThat(ids(watch(id, 0, Integer.MAX_VALUE))).containsExactlyElementsOf(
                LongStream.rangeClosed(1, n).boxed().toList());
        // ?after= is the same resume point for clients that cannot set headers.
        var after = Sse.read(events(id) + "?after=" + (n - 1), AUTH, seen -> false, TIMEOUT);
        assertThat(ids(after.dispatched().stream().filter(e -> !e.id().isEmpty()).toList())).containsExactly(n);
    }

    @Test
    void watchJobResumesAfterTheLastSequenceSeen() {
        var id = cluster.rest(KEY).schedule(Fixtures.HELLO_TASK);
        int k = 2;
        var firstPart = watch(id, 0, k);
        assertThat(ids(firstPart)).containsExactly(1L, 2L);
        var rest = watch(id, k, Integer.MAX_VALUE);
        assertThat(rest).isNotEmpty();
        long n = rest.getLast().getSequence();
        assertThat(ids(rest)).containsExactlyElementsOf(LongStream.rangeClosed(k + 1, n).boxed().toList());
        assertThat(rest.getLast().getStatusChanged().getStatus()).isEqualTo("complete");
    }

    @Test
    void cliLogsReplayAFinishedJob(@TempDir Path temp) throws Exception {
        var id = cluster.rest(KEY).schedule(Fixtures.HELLO_TASK);
        cluster.rest(KEY).awaitEnd(id, TIMEOUT);
        var logs = Cli.run(temp, "logs", "-f", "--server", "127.0.0.1:" + cluster.port(), "--api-key", KEY, id);
        assertThat(logs.exitCode()).as(logs.err()).isEqualTo(0);
        var out = logs.out();
        assertThat(out).contains("● pending", "● running", "▶ write_file", "● complete", "● zip ready");
        assertThat(out.indexOf("● pending")).isLessThan(out.indexOf("● running"));
        assertThat(out.indexOf("● running")).isLessThan(out.indexOf("● complete"));
        assertThat(out.split("● complete", -1)).as("each event once").hasSize(2);

        var stranger = Cli.run(temp, "logs", "--server", "127.0.0.1:" + cluster.port(), "--api-key", "someone-else", id);
        assertThat(stranger.exitCode()).isEqualTo(1);
        assertThat(stranger.err()).contains("no job with id").doesNotContain("Exception");
    }

    @Test
    void aWatcherThatNeverReadsDoesNotHoldTheJobBack() throws Exception {
        var id = cluster.rest(KEY).schedule(Fixtures.HELLO_TASK);
        try (var socket = new Socket()) {
            socket.setReceiveBufferSize(1024);
            socket.connect(new InetSocketAddress("127.0.0.1", cluster.port()));
            socket.getOutputStream().write(("GET /v1/jobs/" + id + "/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + KEY + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            // The watcher is there, and never reads a byte; the job runs to its end all the same.
            var polled = cluster.rest(KEY).awaitEnd(id, TIMEOUT);
            assertThat(polled.last().path("status").asText()).isEqualTo("complete");
            // And when it finally reads, nothing is missing.
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            var seen = new StringBuilder();
            var in = socket.getInputStream();
            var buffer = new byte[8192];
            int read;
            while (!seen.toString().contains("event:end") && (read = in.read(buffer)) > 0) {
                seen.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
            }
            var last = watch(id, 0, Integer.MAX_VALUE).getLast().getSequence();
            for (long sequence = 1; sequence <= last; sequence++) {
                assertThat(seen.toString()).contains("id:" + sequence + "\n");
            }
            assertThat(seen.toString()).contains("event:end");
        }
    }

    @Test
    void portsOfAnEndedJobAreUnavailable() {
        var id = cluster.rest(KEY).schedule(Fixtures.HELLO_TASK);
        cluster.rest(KEY).awaitEnd(id, TIMEOUT);
        var response = cluster.rest(KEY).get("/v1/jobs/" + id + "/ports/8080/");
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("job " + id + " has no running sandbox").contains("ended");
    }

    @Test
    void eventsNeedTheOwnersKey() {
        var id = cluster.rest(KEY).schedule(Fixtures.HELLO_TASK);
        var none = Sse.read(events(id), Map.of(), seen -> true, TIMEOUT);
        assertThat(none.status()).isEqualTo(401);
        var wrong = Sse.read(events(id), Map.of("Authorization", "Bearer nope"), seen -> true, TIMEOUT);
        assertThat(wrong.status()).isEqualTo(401);
        var other = Sse.read(events(id), Map.of("Authorization", "Bearer someone-else"), seen -> true, TIMEOUT);
        assertThat(other.status()).as("another owner's job does not exist for them").isEqualTo(404);
        var badResume = Sse.read(events(id), Map.of("Authorization", "Bearer " + KEY, "Last-Event-ID", "x"),
                seen -> true, TIMEOUT);
        assertThat(badResume.status()).isEqualTo(400);
        assertThat(badResume.errorBody()).contains("Last-Event-ID");
    }

    private String events(String id) {
        return cluster.baseUrl() + "/v1/jobs/" + id + "/events";
    }

    /** Up to {@code max} events after {@code after}, over gRPC; stops (cancels) once it has them. */
    private List<JobEvent> watch(String id, long after, int max) {
        var headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + KEY);
        var stub = JobServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        var events = new ArrayList<JobEvent>();
        try (var context = Context.current().withCancellation()) {
            context.run(() -> {
                var stream = stub.watchJob(WatchJobRequest.newBuilder().setJobId(id).setAfterSequence(after).build());
                while (events.size() < max && stream.hasNext()) {
                    events.add(stream.next());
                }
            });
            context.cancel(null);
        }
        return events;
    }

    private static int dispatched(List<Sse.Event> seen) {
        return (int) seen.stream().filter(e -> e.comment().isEmpty()).count();
    }

    private static List<Long> ids(List<?> events) {
        return events.stream().map(e -> e instanceof JobEvent job ? job.getSequence() : Long.parseLong(((Sse.Event) e).id())).toList();
    }
}
