package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read path: {@code GET /status/{id}} of a completed job on the real server (its own JVM, API
 * keys on, Redis outside it), loaded with {@code wrk -t2 -c50 -d10s}, against {@code redis-benchmark
 * -t get -c 50} on the same Redis in the same run: what share of the raw Redis rate the API serves.
 * Beside it, in the same run, the same server's most trivial route ({@code /internal/healthcheck})
 * and redis-benchmark's own latency: what this machine's load alone does to a p99. Printed, not
 * asserted. Needs {@code wrk} and {@code redis-benchmark} on PATH (it fails, saying so,
 * when one is missing).
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=StatusReadBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class StatusReadBenchmark {
    private static final String KEY = "status-bench-key";
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern WRK_RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern WRK_P99 = Pattern.compile("\\n\\s+99%\\s+([0-9.]+)(us|ms|s)\\b");
    private static final Pattern WRK_P50 = Pattern.compile("\\n\\s+50%\\s+([0-9.]+)(us|ms|s)\\b");
    private static final Pattern WRK_ERRORS = Pattern.compile("Non-2xx or 3xx responses: (\\d+)|Socket errors: .*");
    private static final Pattern REDIS_RATE = Pattern.compile("throughput summary: ([0-9.]+) requests per second");
    /** redis-benchmark's "latency summary (msec)": avg min p50 p95 p99 max on the line after the heading. */
    private static final Pattern REDIS_LATENCY = Pattern.compile(
            "latency summary \\(msec\\):\\s+avg\\s+min\\s+p50\\s+p95\\s+p99\\s+max\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)\\s+([0-9.]+)");

    @Test
    void statusReadsAgainstRawRedisGets(@TempDir Path temp) throws Exception {
        var wrk = onPath("wrk");
        var redisBenchmark = onPath("redis-benchmark");
        try (var redis = EmbeddedRedis.start(temp.resolve("redis"));
                var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("exec-true", temp, "status")).build().start();
                var server = ServerProcess.start(temp.resolve("server"), redis.url(), model.baseUrl(),
                        temp.resolve("server.log"), "--api-keys", KEY)) {
            var rest = new Rest("http://127.0.0.1:" + server.port(), KEY);
            var id = rest.schedule("run true " + UUID.randomUUID());
            assertThat(rest.awaitStatus(id, Rest.ENDED, Duration.ofSeconds(90)).last().path("status").asText())
                    .isEqualTo("complete");
            var url = "http://127.0.0.1:" + server.port() + "/status/" + id;

            // Warm-up: on two busy cores the server's JIT needs about 20 s of this load to settle.
            run(wrk.toString(), "-t2", "-c50", "-d20s", "-H", "Authorization: Bearer " + KEY, url);
            var load = String.join(" ", List.of(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
            var api = run(wrk.toString(), "-t2", "-c50", "-d10s", "--latency", "-H", "Authorization: Bearer " + KEY, url);
            // Peers in the same run: the same server's most trivial route (no Redis, no key, a constant
            // answer; what Armeria, wrk and this machine's load cost by themselves), and Redis alone.
            var trivial = run(wrk.toString(), "-t2", "-c50", "-d10s", "--latency",
                    "http://127.0.0.1:" + server.port() + "/internal/healthcheck");
            var raw = run(redisBenchmark.toString(), "-s", redis.socket().toString(), "-t", "get", "-c", "50",
                    "-n", "1000000").replace('\r', '\n');

            for (var output : List.of(api, trivial)) {
                assertThat(WRK_ERRORS.matcher(output).find()).as("wrk saw errors or non-200 answers:\n%s", output).isFalse();
            }
            double apiRate = number(WRK_RATE, api);
            double redisRate = number(REDIS_RATE, raw);
            var redisLatency = REDIS_LATENCY.matcher(raw);
            assertThat(redisLatency.find()).as("%s in:\n%s", REDIS_LATENCY, raw).isTrue();
            System.out.printf("load average as the measuring began: %s%n", load);
            System.out.printf("GET /status/{id} (wrk -t2 -c50 -d10s): %.0f req/s, p50 %.2f ms, p99 %.2f ms%n",
                    apiRate, millis(WRK_P50, api), millis(WRK_P99, api));
            System.out.printf("peer: GET /internal/healthcheck, same server (wrk -t2 -c50 -d10s): %.0f req/s, p50 %.2f ms, p99 %.2f ms%n",
                    number(WRK_RATE, trivial), millis(WRK_P50, trivial), millis(WRK_P99, trivial));
            System.out.printf("peer: redis-benchmark -t get -c 50, same Redis: %.0f req/s, p50 %s ms, p99 %s ms%n",
                    redisRate, redisLatency.group(3), redisLatency.group(5));
            System.out.printf("ratio API / raw Redis: %.1f%%%n", 100 * apiRate / redisRate);
        }
    }

    private static Path onPath(String tool) {
        for (var dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            var candidate = Path.of(dir, tool);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(tool + " is not on PATH: this benchmark needs it (apt-get install -y "
                + (tool.equals("wrk") ? "wrk" : "redis-tools") + ", or run testbed/setup.sh)");
    }

    /** Runs a tool to its end (bounded) and returns what it printed. */
    private static String run(String... command) throws IOException, InterruptedException {
        var log = Files.createTempFile("status-bench", ".out");
        try {
            var process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!process.waitFor(TOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException(command[0] + " did not finish in " + TOOL_TIMEOUT.toSeconds() + " s");
            }
            var text = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(process.exitValue()).as("%s:\n%s", command[0], text).isZero();
            return text;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static double number(Pattern pattern, String text) {
        var matcher = pattern.matcher(text);
        assertThat(matcher.find()).as("%s in:\n%s", pattern, text).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    private static double millis(Pattern pattern, String text) {
        var matcher = pattern.matcher(text);
        assertThat(matcher.find()).as("%s in:\n%s", pattern, text).isTrue();
        double value = Double.parseDouble(matcher.group(1));
        return switch (matcher.group(2)) {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
        };
    }
}
