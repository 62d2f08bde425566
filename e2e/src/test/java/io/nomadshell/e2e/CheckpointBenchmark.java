package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.Timestamps;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a checkpoint costs, in a real bubblewrap sandbox with the real daemon and the scripted model:
 * a workspace of 10,000 files of 1 KiB, each its own (one step makes them), then ten steps that each
 * change one file. Per
 * step: the time from the step's tool call ending to its checkpoint being recorded (the daemon's
 * commit and bundle, the bundle's way over Attach, the control plane's fetch and Redis write), and
 * the bytes it added; against {@code cp -a} of the same workspace on the host, in the same run. Then
 * rollback and fork on that workspace: the API call, and the time until the job's next tool call
 * (a new sandbox with the checkpoint restored, and a model call) against a new job's first call.
 * Printed, not asserted.
 * Run: {@code ./mvnw -o -pl e2e -am verify -Dtest=CheckpointBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class CheckpointBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FILES = 10_000;
    private static final int CHANGES = 10;
    private static final Duration WAIT = Duration.ofMinutes(5);

    @Test
    void checkpointCostRollbackAndFork(@TempDir Path temp) throws Exception {
        var turns = new ArrayList<String>();
        turns.add(exec("python3 -c 'import os\\nfor d in range(100):\\n    os.makedirs(\\\"d%d\\\" % d)\\n    for f in range("
                + FILES / 100 + "):\\n        open(\\\"d%d/f%d.txt\\\" % (d, f), \\\"w\\\").write(os.urandom(512).hex())'"));
        turns.add(exec("mkfifo gate && read line < gate; rm -f gate"));
        for (int i = 0; i < CHANGES; i++) {
            turns.add(exec("echo change-{{turn}} >> d7/f7.txt"));
        }
        turns.add("{\"tool_calls\": [{\"name\": \"finish\", \"arguments\": {\"summary\": \"done\"}}]}");
        var scenario = Scenario.load(Files.writeString(temp.resolve("checkpoints.json"),
                "{\"name\": \"checkpoints\", \"turns\": [" + String.join(",\n", turns) + "]}"));
        var dataDir = temp.resolve("server");
        try (var model = ScriptedModelServer.builder().scenario(scenario).build().start();
                var cluster = TestCluster.start(dataDir, model.baseUrl(), 4)) {
            var rest = cluster.rest();
            var id = rest.schedule("Make many files, then change one at a time");
            var gate = dataDir.resolve("workspaces").resolve(id).resolve("gate");
            var deadline = System.nanoTime() + WAIT.toNanos();
            while (!Files.exists(gate)) {
                assertThat(System.nanoTime()).as("the job's pipe").isLessThan(deadline);
                Rest.sleep(50);
            }
            long workspaceBytes;
            try (var files = Files.walk(gate.getParent())) {
                workspaceBytes = files.filter(Files::isRegularFile).mapToLong(path -> path.toFile().length()).sum();
            }
            var copies = new ArrayList<Long>();
            for (int i = 0; i < 3; i++) {
                var into = temp.resolve("copy-" + i);
                var started = System.nanoTime();
                var cp = new ProcessBuilder("cp", "-a", gate.getParent().toString(), into.toString()).inheritIO().start();
                assertThat(cp.waitFor()).isZero();
                copies.add(System.nanoTime() - started);
            }
            Files.writeString(gate, "go\n");
            assertThat(rest.awaitEnd(id, WAIT).last().path("status").asText()).isEqualTo("complete");

            var events = events(cluster, id);
            var finished = new HashMap<Integer, Long>();
            var checkpoints = new ArrayList<long[]>();
            for (var event : events) {
                if (event.hasToolFinished()) {
                    var call = event.getToolFinished().getCallId();
                    finished.put(Integer.parseInt(call.substring(1, call.indexOf('c'))), Timestamps.toMillis(event.getTime()));
                } else if (event.hasCheckpointed()) {
                    var step = event.getCheckpointed().getStep();
                    checkpoints.add(new long[] {step, Timestamps.toMillis(event.getTime()) - finished.getOrDefault(step, 0L),
                            event.getCheckpointed().getBytes(), event.getCheckpointed().getFiles()});
                }
            }
            var first = checkpoints.get(0);
            var oneChange = checkpoints.stream().filter(c -> c[0] >= 3 && c[0] < 3 + CHANGES).toList();

            var rollbackStarted = System.nanoTime();
            var rolled = rest.post("/v1/jobs/" + id + ":rollback", "application/json", "{\"step\": 6}");
            var rollbackCall = System.nanoTime() - rollbackStarted;
            assertThat(rolled.statusCode()).as(rolled.body()).isEqualTo(200);
            var resumeAt = System.currentTimeMillis();
            assertThat(rest.post("/v1/jobs/" + id + ":resume", "application/json", "{}").statusCode()).isEqualTo(200);
            var rollbackToCall = firstToolStartedAfter(cluster, id, resumeAt) - resumeAt;
            rest.awaitEnd(id, WAIT);

            var forkAt = System.currentTimeMillis();
            var forkStarted = System.nanoTime();
            var forked = rest.post("/v1/jobs/" + id + ":fork", "application/json", "{\"step\": 6}");
            var forkCall = System.nanoTime() - forkStarted;
            assertThat(forked.statusCode()).as(forked.body()).isEqualTo(200);
            var forkId = JSON.readTree(forked.body()).path("job_id").asText();
            var forkToCall = firstToolStartedAfter(cluster, forkId, 0) - forkAt;
            rest.awaitEnd(forkId, WAIT);

            var newAt = System.currentTimeMillis();
            var fresh = rest.schedule("Make many files, then change one at a time");
            var newToCall = firstToolStartedAfter(cluster, fresh, 0) - newAt;

            System.out.printf("%nCheckpoints on a workspace of %d files (%d files recorded), 2-core machine%n", FILES, first[3]);
            System.out.println("| | time | bytes added |");
            System.out.println("|---|---|---|");
            System.out.printf("| first checkpoint (the %d files new) | %d ms | %,d |%n", FILES, first[1], first[2]);
            System.out.printf("| a step that changed one file, p50 / max (n=%d) | %d / %d ms | %,d / %,d |%n", oneChange.size(),
                    percentile(oneChange, 1, 50), percentile(oneChange, 1, 100),
                    percentile(oneChange, 2, 50), percentile(oneChange, 2, 100));
            var cp = copies.stream().sorted().toList().get(1) / 1_000_000;
            System.out.printf("| peer: cp -a of the workspace, p50 of 3 | %d ms | %,d (the files' bytes) |%n", cp, workspaceBytes);
            System.out.printf("| one-change checkpoint / cp -a | %.2f× | |%n", percentile(oneChange, 1, 50) / (double) cp);
            System.out.printf("%n| | API call | to the job's next tool call |%n|---|---|---|%n");
            System.out.printf("| rollback to step 6, then resume | %d ms | %d ms |%n", rollbackCall / 1_000_000, rollbackToCall);
            System.out.printf("| fork from step 6 | %d ms | %d ms |%n", forkCall / 1_000_000, forkToCall);
            System.out.printf("| peer: a new job (nothing to restore) | | %d ms |%n", newToCall);
            // Its first step waits on its pipe for good: what was measured is its start.
            rest.post("/v1/jobs/" + fresh + ":cancel", "application/json", "{}");
        }
    }

    private static String exec(String command) {
        return "{\"tool_calls\": [{\"name\": \"exec\", \"arguments\": {\"command\": \"" + command
                + "\", \"timeout_ms\": 600000}}]}";
    }

    private static long percentile(List<long[]> rows, int column, int percent) {
        var values = rows.stream().mapToLong(row -> row[column]).sorted().toArray();
        return values[Math.min(values.length - 1, (int) Math.ceil(percent / 100.0 * values.length) - 1)];
    }

    /** The time (server clock, ms) of the job's first tool_started event at or after {@code after}. */
    private static long firstToolStartedAfter(TestCluster cluster, String jobId, long after) {
        var deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (var event : events(cluster, jobId)) {
                if (event.hasToolStarted() && Timestamps.toMillis(event.getTime()) >= after) {
                    return Timestamps.toMillis(event.getTime());
                }
            }
            Rest.sleep(20);
        }
        throw new AssertionError("job " + jobId + " started no tool call");
    }

    /** The job's events so far (a running job's: those written within a short watch). */
    private static List<JobEvent> events(TestCluster cluster, String jobId) {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
        var events = new ArrayList<JobEvent>();
        try {
            JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build()).forEachRemaining(events::add);
        } catch (RuntimeException deadlineOfALiveJob) {
            // the job still runs: what came within the deadline is what there is
        } finally {
            channel.shutdownNow();
        }
        return events;
    }
}
