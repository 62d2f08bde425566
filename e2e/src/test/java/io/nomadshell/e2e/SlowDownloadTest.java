package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.nomadshell.proto.v1.ArtifactChunk;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real job leaves a zip of about 300 MB; a client that reads it slowly, over {@code DownloadArtifact}
 * (one message at a time) or {@code GET /download/{id}} (a small TCP receive window), costs the server
 * a window of memory, not the zip: the heap, measured after a full GC while the client has read only
 * the first megabytes and stalls, stays within {@link #HEAP_BOUND} of what it was before. The server
 * runs in this JVM (as the CLI runs it), so this JVM's heap is the server's; the clients here hold
 * no more than a chunk. Each client then reads the rest and gets every byte.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlowDownloadTest {
    private static final long HEAP_BOUND = 32L << 20;
    private static final long ZIP_AT_LEAST = 250L << 20;
    private static final long READ_BEFORE_STALL = 4L << 20;
    /** While the client stalls, the heap is sampled this many times, this far apart. */
    private static final int SAMPLES = 6;
    private static final long SAMPLE_EVERY_MILLIS = 500;

    private ScriptedModelServer model;
    private TestCluster cluster;
    private String job;
    private long zipBytes;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("big-zip", dataDir, "")).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
        job = cluster.rest().schedule("Write 300 MB of random bytes");
        var ended = cluster.rest().awaitEnd(job, Duration.ofMinutes(10)).last();
        assertThat(ended.path("status").asText()).as(ended.toString()).isEqualTo("complete");
        zipBytes = ended.path("artifact_bytes").asLong();
        assertThat(zipBytes).as("the zip's size").isGreaterThan(ZIP_AT_LEAST);
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aSlowDownloadArtifactClientHoldsAWindowNotTheZip() throws Exception {
        ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
        try {
            long before = heapAfterGc();
            var received = new AtomicLong();
            var arrived = new Semaphore(0);
            var closed = new CompletableFuture<Status>();
            ClientCall<DownloadArtifactRequest, ArtifactChunk> call =
                    channel.newCall(JobServiceGrpc.getDownloadArtifactMethod(), CallOptions.DEFAULT);
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(ArtifactChunk chunk) {
                    received.addAndGet(chunk.getData().size());
                    arrived.release();
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    closed.complete(status);
                    arrived.release();
                }
            }, new Metadata());
            call.sendMessage(DownloadArtifactRequest.newBuilder().setJobId(job).build());
            call.halfClose();
            // One message at a time, each asked for only once the last arrived.
            while (received.get() < READ_BEFORE_STALL && !closed.isDone()) {
                call.request(1);
                assertThat(arrived.tryAcquire(30, TimeUnit.SECONDS)).as("a chunk within 30 s").isTrue();
            }
            long during = maxHeapWhileStalled();
            print("DownloadArtifact (gRPC)", before, during);
            assertThat(during - before).as("heap growth while a client stalls on a %d-byte zip", zipBytes)
                    .isLessThan(HEAP_BOUND);

            call.request(Integer.MAX_VALUE);
            assertThat(closed.get(2, TimeUnit.MINUTES).getCode()).isEqualTo(Status.Code.OK);
            assertThat(received.get()).as("bytes received").isEqualTo(zipBytes);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSlowRestDownloadHoldsAWindowNotTheZip() throws Exception {
        long before = heapAfterGc();
        try (var socket = new Socket()) {
            // A small receive window: the server's writes stall as soon as this client stops reading.
            socket.setReceiveBufferSize(16 * 1024);
            socket.connect(new InetSocketAddress("127.0.0.1", cluster.port()), 5_000);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET /download/" + job + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            var in = socket.getInputStream();
            var head = headers(in);
            assertThat(head).startsWith("HTTP/1.1 200");
            long length = contentLength(head);
            assertThat(length).isEqualTo(zipBytes);

            var buffer = new byte[16 * 1024];
            long read = 0;
            while (read < READ_BEFORE_STALL) {
                int n = in.read(buffer);
                assertThat(n).as("the zip ended early").isPositive();
                read += n;
            }
            long during = maxHeapWhileStalled();
            print("GET /download (REST)", before, during);
            assertThat(during - before).as("heap growth while a client stalls on a %d-byte zip", zipBytes)
                    .isLessThan(HEAP_BOUND);

            for (int n; (n = in.read(buffer)) > 0; ) {
                read += n;
            }
            assertThat(read).as("bytes received").isEqualTo(zipBytes);
        }
    }

    /** The most heap in use (after a full GC) over a few seconds in which the client reads nothing. */
    private static long maxHeapWhileStalled() throws InterruptedException {
        long most = 0;
        for (int i = 0; i < SAMPLES; i++) {
            Thread.sleep(SAMPLE_EVERY_MILLIS); // a sampling period, not a wait for a condition
            most = Math.max(most, heapAfterGc());
        }
        return most;
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private void print(String what, long before, long during) {
        System.out.printf(Locale.ROOT, "%s, slow client stalled after %d MiB of a %.0f MiB zip: heap %.1f MiB before,"
                        + " %.1f MiB at most while stalled (growth %.1f MiB, bound %d MiB)%n",
                what, READ_BEFORE_STALL >> 20, zipBytes / 1048576.0, before / 1048576.0, during / 1048576.0,
                (during - before) / 1048576.0, HEAP_BOUND >> 20);
    }

    private static String headers(InputStream in) throws IOException {
        var head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            assertThat(b).as("the response's headers ended early").isNotNegative();
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static long contentLength(String head) {
        return head.lines().filter(line -> line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
                .mapToLong(line -> Long.parseLong(line.substring(line.indexOf(':') + 1).strip()))
                .findFirst().orElse(-1);
    }
}
