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

/**
 * A 300-step job whose every tool output is 50 KB, under a 16k-token budget: the scripted model
 * counts each request with the same tokenizer, refuses any tool result without its call, and at
 * step 290 expects recall to bring back a fact that only step 3 printed, in the middle of its output.
 */
class LongJobTest {
    static final int CONTEXT_TOKENS = 16_384;
    static final String FACT = "the launch code is PELICAN-7431";
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void threeHundredStepsOfFiftyKilobyteOutputsStayWithinSixteenThousandTokens(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("long.json"),
                scenario()))).build().start();
        cluster = TestCluster.start(tmp.resolve("server"), model.baseUrl(), options -> options
                .limits(new AgentLimits(400, Duration.ofMinutes(20), Duration.ofMinutes(1)))
                .context(new ContextOptions(CONTEXT_TOKENS, 0, 0, PriceTable.BUILT_IN)));
        var rest = cluster.rest();

        var job = rest.schedule("Print a lot of output, then remember the launch code");
        var polled = rest.awaitEnd(job, Duration.ofMinutes(15));

        assertThat(polled.last().path("status").asText())
                .as("the job (%s); the model refuses a request over no budget of its own, an unpaired tool"
                        + " result, or a recall answer without the fact", polled.last())
                .isEqualTo("complete");
        assertThat(polled.last().path("steps").asInt()).isEqualTo(291);
        var counts = model.promptTokenCounts();
        assertThat(model.receivedRequests()).as("no request was refused (unpaired tool result, bad shape)")
                .hasSameSizeAs(counts);
        assertThat(counts).as("every request the model received").hasSizeGreaterThan(291)
                .allSatisfy(tokens -> assertThat(tokens).isLessThanOrEqualTo(CONTEXT_TOKENS));
        assertThat(model.receivedRequests()).as("older steps were condensed by the model")
                .anySatisfy(body -> assertThat(body.path("messages").get(0).path("content").asText())
                        .contains("You condense the history"));
    }

    /**
     * Turn i runs step i+1: a 50 KB output; step 3's holds the fact in its middle. Step 290 recalls
     * it; step 291 expects it in recall's answer, then finishes.
     */
    static String scenario() {
        var filler = "yes 'step {{turn}}: some line of build output that nobody needs to read' | head -c 50000";
        var fact = "yes 'step 3: filler' | head -c 25000; echo; echo '" + FACT + "'; yes 'step 3: filler' | head -c 25000";
        return """
                {"name": "long-job",
                 "turns": [
                   {"repeat": 2, "tool_calls": [{"name": "exec", "arguments": {"command": "%1$s"}}]},
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "%2$s"}}]},
                   {"repeat": %3$d, "tool_calls": [{"name": "exec", "arguments": {"command": "%1$s"}}]},
                   {"tool_calls": [{"name": "recall", "arguments": {"query": "what is the launch code"}}]},
                   {"expect": "PELICAN-7431", "tool_calls": [{"name": "finish", "arguments": {"summary": "PELICAN-7431"}}]}
                 ],
                 "matched_turns": [{"system_contains": "You condense the history",
                                    "content": "The agent ran commands that printed long filler output."}]}
                """.formatted(filler, fact, 286);
    }
}
