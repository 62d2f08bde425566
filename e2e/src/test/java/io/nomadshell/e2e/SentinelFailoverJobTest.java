package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.store.SentinelRedis;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server on a {@code redis-sentinel://} URL runs a job (scripted model, local sandbox) whose command
 * prints a numbered line every 50 ms; while it prints, the Sentinels promote the replica
 * ({@code SENTINEL FAILOVER}). The job completes, and its events, read from the new primary, run
 * 1, 2, 3... with no gap and no duplicate, and hold every line the command printed, once.
 */
class SentinelFailoverJobTest {
    private static final int LINES = 400;
    private SentinelRedis redis;
    private ScriptedModelServer model;
    private TestCluster server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
    }

    @Test
    void aJobRunningThroughAFailoverCompletesWithNoGapAndNoDuplicateInItsEvents(@TempDir Path tmp) throws Exception {
        var job = startPrinting(tmp, "echo line-$i");
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var store = new JobStore(connection);
            switchPrimaries(store, job, "SENTINEL FAILOVER", redis::failover);

            var events = awaitCompleteWithContiguousEvents(store, job);
            var history = Fixtures.history(server.port(), job);
            assertThat(printed(events)).as("every line once, in order\n%s", history)
                    .isEqualTo(java.util.stream.IntStream.rangeClosed(1, LINES).boxed().toList());
            assertThat(events.stream().filter(JobEvent::hasToolStarted)).as("the command ran once").hasSize(1);
        }
    }

    /**
     * The primary's process is SIGKILLed (its host died) while the job's command prints; the Sentinels
     * promote the replica once they agree it is down. The server's writes wait in lettuce's queue and go
     * to the new primary, within the lease's margin: the job completes, its events run 1, 2, 3... with no
     * gap and no duplicate, and the command ran once (one start, one end, and the file it appends to
     * holds each line once). Output events the old primary acknowledged but had not yet copied to its
     * replica are lost with it (asynchronous replication, docs/cluster/redis.md): the lines that reach
     * the new primary are in order and never twice, and how many are missing is printed.
     */
    @Test
    void aJobRunningWhileThePrimaryIsKilledCompletesAndRunsItsCommandOnce(@TempDir Path tmp) throws Exception {
        var job = startPrinting(tmp, "echo line-$i; echo line-$i >> lines.log");
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var store = new JobStore(connection);
            switchPrimaries(store, job, "kill -9 of the primary", redis::killPrimary);

            var events = awaitCompleteWithContiguousEvents(store, job);
            var history = Fixtures.history(server.port(), job);
            var started = events.stream().filter(JobEvent::hasToolStarted)
                    .filter(event -> event.getToolStarted().getTool().equals("exec")).toList();
            assertThat(started).as("the command started once\n%s", history).hasSize(1);
            var call = started.getFirst().getToolStarted().getCallId();
            assertThat(events.stream().filter(JobEvent::hasToolFinished)
                    .filter(event -> event.getToolFinished().getCallId().equals(call)))
                    .as("the command ended once\n%s", history).hasSize(1);
            var lines = printed(events);
            assertThat(new java.util.HashSet<>(lines)).as("no line twice\n%s", history).hasSameSizeAs(lines);
            assertThat(lines).as("in order").isSorted();
            System.out.printf("kill -9 of the primary: %d of %d output lines reached the new primary%n", lines.size(), LINES);
            var zip = server.rest().getBytes("/download/" + job);
            assertThat(zip.statusCode()).isEqualTo(200);
            var expected = new StringBuilder();
            java.util.stream.IntStream.rangeClosed(1, LINES).forEach(i -> expected.append("line-").append(i).append('\n'));
            assertThat(Fixtures.unzip(zip.body())).as("the command ran once, whole")
                    .containsEntry("lines.log", expected.toString());
        }
    }

    @Test
    void aSentinelUrlThatNamesNoPrimaryOrNoLiveSentinelStopsTheServerInWords(@TempDir Path tmp) throws Exception {
        var noName = Cli.run(tmp, "server", "--data-dir", tmp.resolve("a").toString(), "--port", "0",
                "--openai-base-url", "http://127.0.0.1:1/v1", "--redis-url", "redis-sentinel://127.0.0.1:1");
        assertThat(noName.exitCode()).isEqualTo(1);
        assertThat(noName.err()).contains("error: the redis-sentinel:// URL names no primary").doesNotContain("\tat ");
        var nobody = Cli.run(tmp, "server", "--data-dir", tmp.resolve("b").toString(), "--port", "0",
                "--openai-base-url", "http://127.0.0.1:1/v1", "--redis-url", "redis-sentinel://127.0.0.1:1,127.0.0.1:2#nsprimary");
        assertThat(nobody.exitCode()).isEqualTo(1);
        assertThat(nobody.err()).contains("error: no Sentinel at 127.0.0.1:1, 127.0.0.1:2 named a reachable primary 'nsprimary'")
                .doesNotContain("\tat ");
    }

    /**
     * Starts the Sentinels' Redis, the model and a server on them, and a job whose command runs
     * {@code line} ({@code $i} is the line's number) {@value #LINES} times, 50 ms apart; returns it running.
     */
    private String startPrinting(Path tmp, String line) throws Exception {
        redis = SentinelRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("lines.json"), """
                {"name": "lines",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments":
                     {"command": "for i in $(seq 1 %d); do %s; sleep 0.05; done"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "Printed the lines."}}]}
                 ]}
                """.formatted(LINES, line)))).build().start();
        server = TestCluster.start(tmp.resolve("server"), model.baseUrl(), options -> options.redisUrl(redis.url()));
        var job = server.rest().schedule("Print numbered lines");
        server.rest().awaitStatus(job, Set.of("running"), Duration.ofSeconds(60));
        return job;
    }

    /** Once the job has printed line 20, switches primaries with {@code how} and waits for the new one to take writes. */
    private void switchPrimaries(JobStore store, String job, String how, Switch switching) throws Exception {
        int replica = redis.replicaPort();
        awaitLine(store, job, 20);
        long started = System.nanoTime();
        switching.run();
        redis.awaitPrimary(replica, Duration.ofSeconds(30));
        System.out.printf("%s: the new primary took writes %d ms after it%n", how, (System.nanoTime() - started) / 1_000_000);
    }

    /** Waits for the job's end; it completed, and its events run 1, 2, 3... with no gap and no duplicate. */
    private java.util.List<JobEvent> awaitCompleteWithContiguousEvents(JobStore store, String job) {
        var last = server.rest().awaitEnd(job, Duration.ofSeconds(180)).last();
        var events = store.eventsAfter(job, 0, 100_000);
        var history = Fixtures.history(server.port(), job);
        assertThat(last.path("status").asText()).as("%s\n%s", last, history).isEqualTo("complete");
        for (int i = 0; i < events.size(); i++) {
            assertThat(events.get(i).getSequence()).as("no gap, no duplicate\n%s", history).isEqualTo(i + 1L);
        }
        return events;
    }

    @FunctionalInterface
    private interface Switch {
        void run() throws Exception;
    }

    /** The numbers of the lines in the job's output events, in the order they were stored. */
    private static ArrayList<Integer> printed(java.util.List<JobEvent> events) {
        var text = new StringBuilder();
        events.stream().filter(JobEvent::hasToolOutput).forEach(event -> text.append(event.getToolOutput().getText()));
        var numbers = new ArrayList<Integer>();
        var matcher = Pattern.compile("line-(\\d+)").matcher(text);
        while (matcher.find()) {
            numbers.add(Integer.parseInt(matcher.group(1)));
        }
        return numbers;
    }

    private static void awaitLine(JobStore store, String job, int line) {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!printed(store.eventsAfter(job, 0, 100_000)).contains(line) && System.nanoTime() < deadline) {
            Rest.sleep(50);
        }
        assertThat(printed(store.eventsAfter(job, 0, 100_000))).as("the command's output").contains(line);
    }
}
