package io.nomadshell.controlplane.bench;

import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.ToolCatalogue;
import io.nomadshell.controlplane.context.JobContexts;
import io.nomadshell.controlplane.model.ModelProfile;
import io.nomadshell.controlplane.context.MessageTokens;
import io.nomadshell.controlplane.context.Tokens;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.store.ContextStore;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens sent per step over a 300-step job whose every tool output is 50 KB, under a 16k budget,
 * against the naive prompt that sends the whole history (its peer, as a ratio); and the context
 * manager's own time per step (build the prompt, record the reply and the result: tokenizer,
 * Redis, Lucene) against counting the step's output alone (the least any token budget costs). The
 * model is left out: condensing calls answer at once.
 * Run: {@code ./mvnw -pl control-plane -am test -Dtest=ContextBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class ContextBenchmark {
    private static final int STEPS = 300;
    private static final int BUDGET = 16_384;

    @TempDir
    Path dir;

    @Test
    void tokensPerStepStayFlatWhileTheNaivePromptGrows() throws Exception {
        try (var redis = EmbeddedRedis.start(dir.resolve("redis"));
                var connection = RedisConnection.connect(redis.url(), "bench")) {
            var contexts = new JobContexts(new ContextStore(connection), BUDGET,
                    new ModelProfile("bench", BUDGET, Optional.empty()), ToolCatalogue.definitions(), AgentLoop.SYSTEM_PROMPT);
            var sent = new int[STEPS];
            var naive = new long[STEPS];
            var nanos = new long[STEPS];
            var countNanos = new long[STEPS];
            int[] condensing = {0};
            try (var context = contexts.open(JobIds.next(), "Build the project and keep the logs",
                    messages -> "Condensed " + (++condensing[0]) + ": the agent built modules and read long logs.")) {
                long naiveTokens = 0;
                for (int step = 1; step <= STEPS; step++) {
                    var arguments = "{\"command\":\"make module" + step + " 2>&1 | tee build" + step + ".log\"}";
                    var call = ChatCompletionMessageFunctionToolCall.builder().id("call_" + step)
                            .function(ChatCompletionMessageFunctionToolCall.Function.builder().name("exec").arguments(arguments).build())
                            .build();
                    var reply = ChatCompletionMessage.builder().content("Building module " + step + ".")
                            .refusal(Optional.empty()).addToolCall(call).build();
                    var output = output(step);

                    long counting = System.nanoTime();
                    Tokens.count(output);
                    countNanos[step - 1] = System.nanoTime() - counting;

                    long start = System.nanoTime();
                    var prompt = context.prompt();
                    context.addAssistant(step, reply);
                    context.addResult(step, call, output);
                    nanos[step - 1] = System.nanoTime() - start;

                    sent[step - 1] = prompt.tokens();
                    // The peer, counted the same way: the first prompt, then every turn whole.
                    naiveTokens += step == 1 ? prompt.tokens() : 0;
                    naive[step - 1] = naiveTokens;
                    naiveTokens += MessageTokens.count(ChatCompletionMessageParam.ofAssistant(reply.toParam()))
                            + MessageTokens.count(ChatCompletionMessageParam.ofTool(ChatCompletionToolMessageParam.builder()
                                    .toolCallId(call.id()).content(output).build()));
                }
            }
            System.out.printf("%-6s %-14s %-16s %s%n", "step", "sent (tokens)", "naive (tokens)", "naive / sent");
            for (int step : new int[] {1, 10, 50, 100, 150, 200, 250, 300}) {
                System.out.printf("%-6d %-14d %-16d %.1fx%n", step, sent[step - 1], naive[step - 1],
                        (double) naive[step - 1] / sent[step - 1]);
            }
            var late = IntStream.range(50, STEPS).map(i -> sent[i]).summaryStatistics();
            System.out.printf("sent, steps 51-300: min %d, mean %.0f, max %d (budget %d); condensing calls: %d%n",
                    late.getMin(), late.getAverage(), late.getMax(), BUDGET, condensing[0]);
            System.out.println("context manager per step (prompt + record reply + record 50 KB result): "
                    + new Percentiles(java.util.Arrays.copyOfRange(nanos, 10, STEPS)));
            System.out.println("peer: counting the 50 KB output's tokens alone:                       "
                    + new Percentiles(java.util.Arrays.copyOfRange(countNanos, 10, STEPS)));
        }
    }

    /** 50 KB of build log, different at each step. */
    private static String output(int step) {
        var line = new StringBuilder();
        var text = new StringBuilder(51_000);
        for (int i = 0; text.length() < 50_000; i++) {
            line.setLength(0);
            line.append("[module ").append(step).append("] compiling src/part").append(i).append(".c -> obj/part")
                    .append(i).append(".o (").append((step * 31 + i * 17) % 997).append(" ms)\n");
            text.append(line);
        }
        return text.substring(0, 50_000);
    }
}
