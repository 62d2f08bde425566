package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200 gRPC {@code WatchJob} streams of a running job that writes a megabyte of output, from clients
 * that never read, do not slow REST {@code /status}: every call still succeeds within the default
 * timeout (each stream's sender parks once the client's window is full). The latencies with and
 * without the watchers are printed, not asserted.
 */
class WatchersTest {
    private static final int WATCHERS = 200;
    private static final int CHANNELS = 4;
    private static final int CALLS = 50;
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ScriptedModelServer model;
    private TestCluster cluster;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (var channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void twoHundredSilentWatchersDoNotSlowStatusCalls(@TempDir Path dataDir) throws Exception {
        // About 1.3 MB of output events, then a long sleep: more than the watchers' windows hold.
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(dataDir.resolve("noisy.json"), """
                {"name": "noisy",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "head -c 1000000 /dev/urandom | base64; sleep 600"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}]}
                 ]}
                """))).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
        var job = cluster.rest().schedule("Sleep for ten minutes");
        cluster.rest().awaitStatus(job, Set.of("running"), Duration.ofSeconds(90));

        var before = statusLatencies(job);

        var open = new AtomicInteger();
        var ended = new ArrayList<Status>();
        var calls = new ArrayList<ClientCall<WatchJobRequest, JobEvent>>();
        for (int c = 0; c < CHANNELS; c++) {
            channels.add(Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build());
        }
        for (int i = 0; i < WATCHERS; i++) {
            var call = channels.get(i % CHANNELS).newCall(JobServiceGrpc.getWatchJobMethod(), CallOptions.DEFAULT);
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onHeaders(Metadata headers) {
                    open.incrementAndGet();
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    synchronized (ended) {
                        ended.add(status);
                    }
                }
            }, new Metadata());
            // Never call request(n): this client reads nothing, so its stream's window fills up.
            call.sendMessage(WatchJobRequest.newBuilder().setJobId(job).build());
            call.halfClose();
            calls.add(call);
        }
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (open.get() < WATCHERS && System.nanoTime() < deadline) {
            Rest.sleep(50);
        }
        assertThat(open.get()).as("watch streams the server answered").isEqualTo(WATCHERS);
        synchronized (ended) {
            assertThat(ended).as("watch streams that ended early").isEmpty();
        }

        var during = statusLatencies(job);
        System.out.printf("GET /status latency (ms) over %d calls: without watchers median %d max %d;"
                        + " with %d silent WatchJob streams median %d max %d%n",
                CALLS, median(before), max(before), WATCHERS, median(during), max(during));
        calls.forEach(call -> call.cancel("done", null));
        cluster.rest().post("/v1/jobs/" + job + ":cancel", "application/json", "{}");
    }

    /** Each call must succeed within the REST default timeout; returns the latencies. */
    private List<Long> statusLatencies(String job) throws Exception {
        var latencies = new ArrayList<Long>();
        for (int i = 0; i < CALLS; i++) {
            var started = System.nanoTime();
            var response = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/status/" + job))
                    .timeout(DEFAULT_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
            latencies.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        }
        return latencies;
    }

    private static long median(List<Long> values) {
        return values.stream().sorted().toList().get(values.size() / 2);
    }

    private static long max(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).max().orElse(0);
    }
}
