package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the server in the middle of a job, then a new server on the same data dir and
 * Redis: the job goes on from its transcript and finishes, and no step runs twice.
 */
class KillRestartTest {
    private static final int EXEC_STEPS = 12;
    private EmbeddedRedis redis;
    private ScriptedModelServer model;
    private ServerProcess first;
    private ServerProcess second;

    @AfterEach
    void stop() throws Exception {
        if (second != null) second.close();
        if (first != null) first.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
    }

    @Test
    void jobKilledMidwayFinishesOnTheNextServerWithoutRepeatingAStep(@TempDir Path tmp) throws Exception {
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        // Each step appends its number to steps.log and takes a second, so the kill lands inside one.
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("steps.json"), """
                {"name": "steps",
                 "turns": [
                   {"repeat": %d, "tool_calls": [{"name": "exec", "arguments": {"command": "echo {{turn}} >> steps.log; sleep 1"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "counted"}}]}
                 ]}
                """.formatted(EXEC_STEPS)))).build().start();
        var dataDir = tmp.resolve("server");
        first = ServerProcess.start(dataDir, redis.url(), model.baseUrl(), tmp.resolve("first.log"));

        var job = first.rest().schedule("Count to twelve, slowly");
        var deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (first.rest().status(job).path("steps").asInt() < 4 && Instant.now().isBefore(deadline)) {
            Rest.sleep(100);
        }
        assertThat(first.rest().status(job).path("status").asText()).isEqualTo("running");
        first.kill();
        awaitNoProcessWith(job);

        second = ServerProcess.start(dataDir, redis.url(), model.baseUrl(), tmp.resolve("second.log"));
        var last = second.rest().awaitEnd(job, Duration.ofMinutes(3)).last();

        assertThat(last.path("status").asText()).as("%s\nsecond server:\n%s", last, second.log()).isEqualTo("complete");
        var zip = second.rest().getBytes("/download/" + job);
        assertThat(zip.statusCode()).isEqualTo(200);
        var lines = Arrays.stream(Fixtures.unzip(zip.body()).get("steps.log").split("\n")).mapToInt(Integer::parseInt).toArray();
        assertThat(lines).as("each step ran at most once, in order").isSorted().doesNotHaveDuplicates();
        assertThat(lines).as("at most the step the kill interrupted is missing")
                .hasSizeBetween(EXEC_STEPS - 1, EXEC_STEPS)
                .contains(0, EXEC_STEPS - 1);
        // One model call may be asked again: the one answered after the last transcript entry before the kill.
        assertThat(last.path("steps").asInt()).isBetween(EXEC_STEPS + 1, EXEC_STEPS + 2);
    }

    /** The killed server's sandbox dies with it (bubblewrap's --die-with-parent). */
    private static void awaitNoProcessWith(String jobId) {
        var deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (!Fixtures.processesWith(jobId).isEmpty() && Instant.now().isBefore(deadline)) {
            Rest.sleep(200);
        }
        assertThat(Fixtures.processesWith(jobId)).as("the killed server's sandbox").isEmpty();
    }
}
