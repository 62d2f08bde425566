package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.agent.AgentLimits;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.PriceTable;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job that goes round in circles, or spends its token or cost budget, ends in error saying why. */
class JobLimitsTest {
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void repeatingOneCallIsToldThenEndsStuckNamingTheCall(@TempDir Path tmp) throws Exception {
        // From the third identical result on, the model is told (turns 3 and 4 expect it); the fifth ends the job.
        start(tmp, """
                {"name": "stuck",
                 "turns": [
                   {"repeat": 3, "tool_calls": [{"name": "exec", "arguments": {"command": "ls -a"}}]},
                   {"expect": "This exact call has now returned the same result", "repeat": 7,
                    "tool_calls": [{"name": "exec", "arguments": {"command": "ls -a"}}]}
                 ]}
                """, new ContextOptions(0, 0, 0, PriceTable.BUILT_IN));

        var job = cluster.rest().schedule("List the files forever");
        var last = cluster.rest().awaitEnd(job, Duration.ofMinutes(2)).last();

        assertThat(last.path("status").asText()).isEqualTo("error");
        assertThat(last.path("error").asText())
                .startsWith("stuck: ")
                .contains("5 times")
                .contains("exec {\"command\":\"ls -a\"}");
        assertThat(last.path("steps").asInt()).isEqualTo(5);
    }

    @Test
    void tokenBudgetStopsTheJobBeforeItIsExceeded(@TempDir Path tmp) throws Exception {
        start(tmp, """
                {"name": "chatty",
                 "turns": [{"repeat": 40, "tool_calls": [{"name": "exec", "arguments": {"command": "seq {{turn}} 2000"}}]}]}
                """, new ContextOptions(0, 20_000, 0, PriceTable.BUILT_IN));

        var job = cluster.rest().schedule("Count for a long time");
        var last = cluster.rest().awaitEnd(job, Duration.ofMinutes(2)).last();

        assertThat(last.path("status").asText()).isEqualTo("error");
        assertThat(last.path("error").asText()).startsWith("the job reached its token budget").contains("of 20000 tokens");
        assertThat(last.path("total_tokens").asLong()).isPositive().isLessThanOrEqualTo(20_000);
        assertThat(last.path("steps").asInt()).isBetween(1, 39);
    }

    @Test
    void costBudgetStopsTheJobAndTheCostIsReported(@TempDir Path tmp) throws Exception {
        // $1000 per million prompt tokens: a couple of requests of ~1000 tokens spend a cent.
        start(tmp, """
                {"name": "pricey",
                 "turns": [{"repeat": 40, "tool_calls": [{"name": "exec", "arguments": {"command": "echo {{turn}}"}}]}]}
                """, new ContextOptions(0, 0, 0.01, PriceTable.parse("scripted=1000/1000")));

        var job = cluster.rest().schedule("Spend money");
        var last = cluster.rest().awaitEnd(job, Duration.ofMinutes(2)).last();

        assertThat(last.path("status").asText()).isEqualTo("error");
        assertThat(last.path("error").asText()).startsWith("the job reached its cost budget").contains("of $0.0100");
        assertThat(last.path("cost_usd").asDouble()).isGreaterThanOrEqualTo(0.01);
        assertThat(last.path("steps").asInt()).isBetween(1, 39);
    }

    private void start(Path tmp, String scenario, ContextOptions context) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Scenario.load(Files.writeString(tmp.resolve("scenario.json"), scenario))).build().start();
        cluster = TestCluster.start(tmp.resolve("server"), model.baseUrl(), options -> options
                .limits(new AgentLimits(100, Duration.ofMinutes(5), Duration.ofMinutes(1)))
                .context(context));
    }
}
