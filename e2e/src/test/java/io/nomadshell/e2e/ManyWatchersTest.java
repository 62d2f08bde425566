package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Timestamps;
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
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 SSE watchers (HTTP/1.1, a connection each) and 200 gRPC {@code WatchJob} streams follow one
 * running job of twenty exec steps from its start: the job's tool calls all finish and it completes
 * (its daemon's heartbeats never timed out, or the job would have lost its sandbox), and every
 * watcher gets every event exactly once, in order, and then the end of the stream.
 *
 * <p>Also the streams benchmark (printed, not asserted): the step time of the same job with nobody
 * watching, run just before on the same server, against the watched one, and the events delivered
 * per second. 2,000-odd sockets: the JVM raises its soft file-descriptor limit to the hard one itself
 * (HotSpot's MaxFDLimit, on by default on Linux); the hard limit must allow a few thousand.
 */
class ManyWatchersTest {
    private static final int SSE_WATCHERS = 1000;
    private static final int GRPC_WATCHERS = 200;
    private static final int CHANNELS = 4;
    private static final int EXEC_STEPS = 21;
    private static final Duration OPEN_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(5);

    private ScriptedModelServer model;
    private TestCluster cluster;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<ClientCall<WatchJobRequest, JobEvent>> calls = new ArrayList<>();
    private final List<Thread> readers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        calls.forEach(call -> call.cancel("test over", null));
        for (var channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        readers.forEach(Thread::interrupt);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aThousandSseAndTwoHundredGrpcWatchersEachGetEveryEventWhileTheJobRunsOn(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("watched-steps", dataDir, "")).build().start();
        var home = dataDir.resolve("server");
        cluster = TestCluster.start(home, model.baseUrl(), 1);

        // The peer: the same job with nobody watching.
        var unwatched = cluster.rest().schedule("Run the watched steps alone");
        cluster.rest().awaitStatus(unwatched, Set.of("running"), Duration.ofSeconds(90));
        letGo(home, unwatched);
        assertThat(cluster.rest().awaitEnd(unwatched, RUN_TIMEOUT).last().path("status").asText()).isEqualTo("complete");
        var alone = events(unwatched);

        var job = cluster.rest().schedule("Run the watched steps in front of everyone");
        cluster.rest().awaitStatus(job, Set.of("running"), Duration.ofSeconds(90));
        var opened = new CountDownLatch(SSE_WATCHERS + GRPC_WATCHERS);
        var done = new CountDownLatch(SSE_WATCHERS + GRPC_WATCHERS);
        var delivered = new AtomicLong();
        var sse = openSseWatchers(job, opened, done, delivered);
        var grpc = openGrpcWatchers(job, opened, done, delivered);
        assertThat(opened.await(OPEN_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as("watchers the server answered (%d of %d still waiting)", opened.getCount(), SSE_WATCHERS + GRPC_WATCHERS)
                .isTrue();

        var started = System.nanoTime();
        letGo(home, job);
        assertThat(done.await(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as("watchers whose stream ended (%d still open)", done.getCount()).isTrue();
        var seconds = (System.nanoTime() - started) / 1e9;
        var ended = cluster.rest().awaitEnd(job, RUN_TIMEOUT).last();
        assertThat(ended.path("status").asText()).as(ended.toString()).isEqualTo("complete");

        var all = events(job);
        var finished = all.stream().filter(JobEvent::hasToolFinished).map(JobEvent::getToolFinished).toList();
        assertThat(finished).as("tool calls that finished").hasSize(EXEC_STEPS)
                .allSatisfy(call -> assertThat(call.getOk()).as(call.getSummary()).isTrue());
        var sequences = LongStream.rangeClosed(1, all.size()).boxed().toList();
        assertThat(all.stream().map(JobEvent::getSequence).toList()).isEqualTo(sequences);
        var kinds = all.stream().map(ManyWatchersTest::sseName).toList();
        for (var watcher : sse) {
            assertThat(watcher.error).as("SSE watcher's failure").isNull();
            var dispatched = watcher.read.dispatched();
            assertThat(dispatched.getLast().event()).as("the stream ends with an end event").isEqualTo("end");
            var events = dispatched.subList(0, dispatched.size() - 1);
            assertThat(events.stream().map(e -> Long.parseLong(e.id())).toList()).isEqualTo(sequences);
            assertThat(events.stream().map(Sse.Event::event).toList()).isEqualTo(kinds);
        }
        for (var watcher : grpc) {
            assertThat(watcher.status.getCode()).as("WatchJob status %s", watcher.status).isEqualTo(Status.Code.OK);
            assertThat(List.copyOf(watcher.sequences)).isEqualTo(sequences);
        }

        var quiet = stepMillis(alone);
        var busy = stepMillis(all);
        System.out.printf(Locale.ROOT, "Step time (ms, between exec steps, n=%d): nobody watching p50 %d p99 %d;"
                        + " %d SSE + %d gRPC watchers p50 %d p99 %d (ratio p50 %.2f, p99 %.2f)%n",
                busy.size(), percentile(quiet, 50), percentile(quiet, 99), SSE_WATCHERS, GRPC_WATCHERS,
                percentile(busy, 50), percentile(busy, 99),
                (double) percentile(busy, 50) / percentile(quiet, 50), (double) percentile(busy, 99) / percentile(quiet, 99));
        System.out.printf(Locale.ROOT, "Events delivered: %d events x %d watchers = %d in %.1f s from the go: %.0f events/s%n",
                all.size(), SSE_WATCHERS + GRPC_WATCHERS, delivered.get(), seconds, delivered.get() / seconds);
    }

    /** The job's first step waits for this file in its workspace. */
    private static void letGo(Path home, String job) throws Exception {
        Files.writeString(home.resolve("workspaces").resolve(job).resolve("go"), "");
    }

    private List<SseWatcher> openSseWatchers(String job, CountDownLatch opened, CountDownLatch done, AtomicLong delivered) {
        // HTTP/1.1, as a browser's EventSource: one connection per watcher, the lightest client there is.
        var watchers = new ArrayList<SseWatcher>();
        var path = "/v1/jobs/" + job + "/events";
        for (int i = 0; i < SSE_WATCHERS; i++) {
            var watcher = new SseWatcher();
            watchers.add(watcher);
            var counted = new AtomicInteger();
            readers.add(Thread.ofVirtual().name("sse-watcher-" + i).start(() -> {
                try {
                    watcher.read = SocketSse.read(cluster.port(), path, opened::countDown, seen -> {
                        if (seen.size() > counted.get()) {
                            counted.set(seen.size());
                            delivered.incrementAndGet();
                        }
                        return false;
                    }, OPEN_TIMEOUT);
                } catch (RuntimeException e) {
                    watcher.error = e;
                } finally {
                    done.countDown();
                }
            }));
        }
        return watchers;
    }

    private List<GrpcWatcher> openGrpcWatchers(String job, CountDownLatch opened, CountDownLatch done, AtomicLong delivered) {
        for (int c = 0; c < CHANNELS; c++) {
            channels.add(Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build());
        }
        var watchers = new ArrayList<GrpcWatcher>();
        for (int i = 0; i < GRPC_WATCHERS; i++) {
            var watcher = new GrpcWatcher();
            watchers.add(watcher);
            var call = channels.get(i % CHANNELS).newCall(JobServiceGrpc.getWatchJobMethod(), CallOptions.DEFAULT);
            calls.add(call);
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onHeaders(Metadata headers) {
                    opened.countDown();
                }

                @Override
                public void onMessage(JobEvent event) {
                    watcher.sequences.add(event.getSequence());
                    delivered.incrementAndGet();
                    call.request(1);
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    watcher.status = status;
                    done.countDown();
                }
            }, new Metadata());
            call.sendMessage(WatchJobRequest.newBuilder().setJobId(job).build());
            call.halfClose();
            call.request(1);
        }
        return watchers;
    }

    /** The ended job's whole history, as a late watcher reads it. */
    private List<JobEvent> events(String job) {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
        try {
            var events = new ArrayList<JobEvent>();
            JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .watchJob(WatchJobRequest.newBuilder().setJobId(job).build())
                    .forEachRemaining(events::add);
            return events;
        } finally {
            channel.shutdownNow();
        }
    }

    /** Milliseconds from each exec step's start to the next one's, after the first (which waits for the go). */
    private static List<Long> stepMillis(List<JobEvent> events) {
        var starts = events.stream().filter(JobEvent::hasToolStarted)
                .filter(event -> event.getToolStarted().getTool().equals("exec"))
                .map(event -> Timestamps.toMillis(event.getTime())).toList();
        var steps = new ArrayList<Long>();
        for (int i = 2; i < starts.size(); i++) {
            steps.add(starts.get(i) - starts.get(i - 1));
        }
        return steps;
    }

    private static long percentile(List<Long> values, int p) {
        var sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static String sseName(JobEvent event) {
        return event.getKindCase().name().toLowerCase(Locale.ROOT);
    }

    private static final class SseWatcher {
        volatile Sse.Read read;
        volatile RuntimeException error;
    }

    private static final class GrpcWatcher {
        final ConcurrentLinkedQueue<Long> sequences = new ConcurrentLinkedQueue<>();
        volatile Status status;
    }
}
