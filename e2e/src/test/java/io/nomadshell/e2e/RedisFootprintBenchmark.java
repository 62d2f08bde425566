package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.Range;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an ended job costs Redis, with live output written chunk by chunk (the output window at zero,
 * as before coalescing) against coalesced (the default 50 ms / 16 KiB), in one run: each variant
 * runs the same jobs, one chatty command each (2,000 lines, a millisecond apart, through the real
 * daemon in a bubblewrap sandbox), on a Redis of its own. Prints the stream entries per call, the
 * events stream's length, and Redis's {@code used_memory} per ended job (all its keys kept).
 * Printed, not asserted.
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=RedisFootprintBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class RedisFootprintBenchmark {
    private static final int JOBS = 3;
    private static final int LINES = 2_000;
    private static final String CHATTY = "python3 -u -c 'import time\nfor i in range(" + LINES
            + "):\n    print(\"line\", i, \"of a chatty build step\")\n    time.sleep(0.001)'";

    @Test
    void redisPerEndedJobWithAndWithoutCoalescing(@TempDir Path temp) throws Exception {
        var scenario = scenario(temp);
        try (var model = ScriptedModelServer.builder().scenario(scenario).build().start()) {
            var before = run(temp.resolve("chunk-by-chunk"), model, Duration.ZERO);
            var after = run(temp.resolve("coalesced"), model, Duration.ofMillis(50));
            System.out.printf("%nRedis per ended job, %d jobs each running one command that prints %d lines 1 ms apart%n",
                    JOBS, LINES);
            System.out.println("| | output entries per call | stream entries per job | used_memory per ended job |");
            System.out.println("|---|---|---|---|");
            print("chunk by chunk (window 0)", before);
            print("coalesced (50 ms / 16 KiB)", after);
            System.out.printf("| ratio (before / after) | %.1f× | %.1f× | %.1f× |%n",
                    before.outputEntries() / after.outputEntries(), before.streamEntries() / after.streamEntries(),
                    before.bytesPerJob() / after.bytesPerJob());
        }
    }

    private static Variant run(Path dir, ScriptedModelServer model, Duration window) throws Exception {
        try (var redis = EmbeddedRedis.start(dir.resolve("redis"));
                var connection = RedisConnection.connect(redis.url(), "benchmark");
                var cluster = TestCluster.start(dir.resolve("server"), model.baseUrl(),
                        options -> options.redisUrl(redis.url()).outputWindow(window))) {
            var commands = connection.commands();
            long baseline = usedMemory(commands.info("memory"));
            var rest = cluster.rest();
            var ids = new ArrayList<String>();
            for (int i = 0; i < JOBS; i++) {
                var id = rest.schedule("Run the chatty build " + i);
                var ended = rest.awaitEnd(id, Duration.ofMinutes(3)).last();
                assertThat(ended.path("status").asText()).as("%s", ended).isEqualTo("complete");
                ids.add(id);
            }
            long used = usedMemory(commands.info("memory")) - baseline;
            long outputs = 0;
            long entries = 0;
            for (var id : ids) {
                var stream = commands.xrange("ns:events:" + id, Range.create("-", "+"));
                entries += stream.size();
                outputs += stream.stream().filter(m -> m.getBody().get("event").contains("\"toolOutput\"")).count();
            }
            return new Variant((double) outputs / JOBS, (double) entries / JOBS, (double) used / JOBS);
        }
    }

    private static void print(String name, Variant variant) {
        System.out.printf("| %s | %.0f | %.0f | %.0f KiB |%n", name, variant.outputEntries(), variant.streamEntries(),
                variant.bytesPerJob() / 1024);
    }

    private static long usedMemory(String info) {
        return info.lines().filter(line -> line.startsWith("used_memory:"))
                .mapToLong(line -> Long.parseLong(line.substring("used_memory:".length()).strip()))
                .findFirst().orElseThrow();
    }

    private static Scenario scenario(Path temp) throws Exception {
        var turns = Rest.JSON.createArrayNode();
        turns.addObject().putArray("tool_calls").addObject().put("name", "exec").putObject("arguments")
                .put("command", CHATTY);
        turns.addObject().putArray("tool_calls").addObject().put("name", "finish").putObject("arguments")
                .put("summary", "built");
        var scenario = Rest.JSON.createObjectNode().put("name", "redis-footprint");
        scenario.set("turns", turns);
        return Scenario.load(Files.writeString(temp.resolve("redis-footprint.json"), scenario.toString()));
    }

    private record Variant(double outputEntries, double streamEntries, double bytesPerJob) {}
}
