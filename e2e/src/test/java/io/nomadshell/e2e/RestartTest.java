package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs survive a server restart on the same data dir: queued ones run, interrupted ones end. */
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
     * same data dir: the waiting job runs to completion, the interrupted one ends in error with a reason.
     */
    @Test
    void pendingJobRunsAfterRestartAndInterruptedJobEnds(@TempDir Path tmp) throws Exception {
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

        helloModel = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        second = TestCluster.start(dataDir, helloModel.baseUrl(), 1);
        var rest2 = second.rest();

        var polled2 = rest2.awaitEnd(job2, Duration.ofSeconds(60));
        assertThat(polled2.last().path("status").asText()).as("job2: %s\nevents:\n%s", polled2.last(), Fixtures.history(second.port(), job2)).isEqualTo("complete");
        var zip = rest2.getBytes("/download/" + job2);
        assertThat(zip.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "hello.py", Fixtures.HELLO_PY, "README.md", Fixtures.HELLO_README));

        var polled1 = rest2.awaitEnd(job1, Duration.ofSeconds(60));
        assertThat(polled1.last().path("status").asText()).as("job1: %s\nevents:\n%s", polled1.last(), Fixtures.history(second.port(), job1)).isEqualTo("error");
        assertThat(polled1.last().path("error").asText("")).as("job1 says why").isNotBlank();
        assertThat(Fixtures.processesWith(marker)).as("job1's sandbox is gone").isEmpty();
    }
}
