package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live output on its way to a real Redis: coalesced into few events, nothing lost, order kept. */
class LiveOutputTest {
    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;
    static CallOutputs outputs;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection);
        outputs = new CallOutputs(store, new ArtifactStore(dir.resolve("artifacts")), CallOutputs.DEFAULT_WINDOW);
    }

    @AfterAll
    static void stopRedis() {
        outputs.close();
        connection.close();
        redis.close();
    }

    @Test
    void manySmallLinesBecomeFewEventsWhoseTextIsTheWholeOutput() throws Exception {
        var id = store.create(JobIds.next(), "alice", "chatty", SandboxResources.DEFAULT, Instant.now(), null);
        var expected = new StringBuilder();
        int lines = 2_000;
        long started = System.nanoTime();
        try (var live = outputs.live(id, "s1c0")) {
            for (int i = 0; i < lines; i++) {
                var line = "line " + i + "\n";
                expected.append(line);
                live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, line.getBytes(StandardCharsets.UTF_8)));
                if (i % 20 == 0) {
                    Thread.sleep(1); // a command that prints as it works, not all at once
                }
            }
            // The last line comes just before the call ends: closing writes it.
            live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, "the end\n".getBytes(StandardCharsets.UTF_8)));
            expected.append("the end\n");
        }
        var elapsed = Duration.ofNanos(System.nanoTime() - started);

        var events = outputEvents(id);
        assertThat(String.join("", events.stream().map(e -> e.getToolOutput().getText()).toList()))
                .isEqualTo(expected.toString());
        // One event per window, one per 16 KiB, and the last one at the end, at most.
        long bound = elapsed.toMillis() / 50 + expected.length() / LiveOutput.MAX_BYTES + 2;
        assertThat(events).as("%d lines in %s", lines + 1, elapsed).hasSizeBetween(1, (int) bound);
        assertThat(events.size()).as("far fewer events than chunks").isLessThan(lines / 10);
    }

    @Test
    void eachStreamKeepsItsOrderAndACharacterSplitBetweenChunksStaysWhole() throws Exception {
        var id = store.create(JobIds.next(), "alice", "split", SandboxResources.DEFAULT, Instant.now(), null);
        var euro = "€".getBytes(StandardCharsets.UTF_8); // three bytes
        try (var live = outputs.live(id, "s1c0")) {
            live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, "price: ".getBytes(StandardCharsets.UTF_8)));
            live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, Arrays.copyOf(euro, 1)));
            live.accept(chunk("s1c0", OutputChunk.Stream.STDERR, "warning\n".getBytes(StandardCharsets.UTF_8)));
            Thread.sleep(200); // the window passes with the character unfinished
            live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, Arrays.copyOfRange(euro, 1, 3)));
            live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, "5\n".getBytes(StandardCharsets.UTF_8)));
        }
        var events = outputEvents(id);
        assertThat(textOf(events, "stdout")).isEqualTo("price: €5\n");
        assertThat(textOf(events, "stderr")).isEqualTo("warning\n");
        assertThat(events).allSatisfy(event -> assertThat(event.getToolOutput().getText()).doesNotContain("\uFFFD"));
    }

    @Test
    void withNoWindowEveryChunkIsItsOwnEvent() {
        var id = store.create(JobIds.next(), "alice", "raw", SandboxResources.DEFAULT, Instant.now(), null);
        try (var raw = new CallOutputs(store, new ArtifactStore(dir.resolve("raw")), Duration.ZERO);
                var live = raw.live(id, "s1c0")) {
            for (int i = 0; i < 10; i++) {
                live.accept(chunk("s1c0", OutputChunk.Stream.STDOUT, ("line " + i + "\n").getBytes(StandardCharsets.UTF_8)));
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(outputEvents(id)).hasSize(10);
    }

    private static List<JobEvent> outputEvents(String id) {
        return store.eventsAfter(id, 0, 100_000).stream().filter(JobEvent::hasToolOutput).toList();
    }

    private static String textOf(List<JobEvent> events, String stream) {
        return String.join("", events.stream().filter(e -> e.getToolOutput().getStream().equals(stream))
                .map(e -> e.getToolOutput().getText()).toList());
    }

    private static ToolEvent chunk(String callId, OutputChunk.Stream stream, byte[] bytes) {
        return ToolEvent.newBuilder().setCallId(callId)
                .setOutput(OutputChunk.newBuilder().setStream(stream).setData(ByteString.copyFrom(bytes))).build();
    }
}
