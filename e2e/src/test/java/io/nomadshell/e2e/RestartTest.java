package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs survive a server restart on the same data dir: queued ones run, interrupted ones go on. */
class RestartTest {
    private final String marker = "marker-" + UUID.randomUUID();
    private ScriptedModelServer sleepyModel;
    private ScriptedModelServer helloModel;
    private TestCluster first;
    private TestCluster second;

    @AfterEach
    void stop() {
        if (second != null) second.close();
        if (first != null) first.close();
        if (helloModel != null) helloModel.close();
        if (sleepyModel != null) sleepyModel.close();
    }

    /**
     * Stop the server while one job runs and another waits for the only slot; start it again on the
     * same data dir: the waiting job runs to completion, and the interrupted one goes on from its
     * transcript (its interrupted call answered as lost, not run again) and completes too.
     */
    @Test
    void pendingJobRunsAfterRestartAndInterruptedJobResumes(@TempDir Path tmp) throws Exception {
        var dataDir = tmp.resolve("server");
        sleepyModel = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("sleep-forever", tmp, marker)).build().start();
        first = TestCluster.start(dataDir, sleepyModel.baseUrl(), 1);
        var rest1 = first.rest();

        var job1 = rest1.schedule("Sleep for ten minutes");
        rest1.awaitStatus(job1, Set.of("running"), Duration.ofSeconds(60));
        var job2 = rest1.schedule(Fixtures.HELLO_TASK);
        for (int i = 0; i < 4; i++) {
            assertThat(rest1.status(job2).path("status").asText()).as("job2 waits for the one slot").isEqualTo("pending");
            Rest.sleep(500);
        }

        first.close();
        assertThat(Fixtures.processesWith(marker)).as("job1's sandbox is gone with the first server").isEmpty();

        // Turn 0 writes hello.py (job2, fresh); job1 resumes after its turn 0, so it only gets turns 1 and 2.
        helloModel = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("resume.json"), """
                {"name": "resume",
                 "turns": [
                   {"tool_calls": [{"name": "write_file", "arguments": {"path": "hello.py", "content": "print('Hello World')\\n"}}]},
                   {"tool_calls": [{"name": "write_file", "arguments": {"path": "README.md", "content": "# Hello\\n"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}]}
                 ]}
                """))).build().start();
        second = TestCluster.start(dataDir, helloModel.baseUrl(), 1);
        var rest2 = second.rest();

        var polled2 = rest2.awaitEnd(job2, Duration.ofSeconds(60));
        assertThat(polled2.last().path("status").asText()).as("job2: %s\nevents:\n%s", polled2.last(), Fixtures.history(second.port(), job2)).isEqualTo("complete");
        var zip = rest2.getBytes("/download/" + job2);
        assertThat(zip.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "hello.py", Fixtures.HELLO_PY, "README.md", "# Hello\n"));

        var polled1 = rest2.awaitEnd(job1, Duration.ofSeconds(60));
        assertThat(polled1.last().path("status").asText()).as("job1: %s\nevents:\n%s", polled1.last(), Fixtures.history(second.port(), job1)).isEqualTo("complete");
        var zip1 = rest2.getBytes("/download/" + job1);
        assertThat(Fixtures.unzip(zip1.body())).as("job1 went on after its first step").containsExactly(Map.entry("README.md", "# Hello\n"));
        assertThat(Fixtures.processesWith(marker)).as("job1's interrupted sleep was not run again").isEmpty();
    }
}
