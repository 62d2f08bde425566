package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many live jobs on one control plane: the real server (its heap capped at 1 GiB), local bubblewrap
 * sandboxes with the real daemon, the scripted model. At each level every job first waits in its
 * sandbox until all of the level's jobs are live (it makes a named pipe {@code go} in its workspace
 * and reads from it; the benchmark writes to every pipe once all exist), then runs four
 * {@code exec sleep 1} steps, all jobs at once. Prints, per
 * level: errors, how long the level took to be all live, the step overhead (one step's wall time
 * minus its one-second sleep: model call, control plane, Attach, the daemon's fork), the server's
 * heap and the memory (PSS) per live sandbox, against a bare {@code sleep} process's PSS.
 *
 * <p>Run: {@code ./mvnw -o -pl e2e -am verify -Dtest=ScaleBenchmark -Dsurefire.failIfNoSpecifiedTests=false
 * -Dscale.levels=10,100,500}
 */
class ScaleBenchmark {
    private static final Duration ALL_LIVE_TIMEOUT = Duration.ofMinutes(8);
    private static final Duration END_TIMEOUT = Duration.ofMinutes(4);
    private static final long STEP_SLEEP_MS = 1000;

    @TempDir
    Path tmp;

    @Test
    void concurrentJobsOnOneControlPlane() throws Exception {
        int[] levels = Arrays.stream(System.getProperty("scale.levels", "10,100").split(","))
                .mapToInt(level -> Integer.parseInt(level.strip())).toArray();
        int most = Arrays.stream(levels).max().orElseThrow();
        var scenario = Fixtures.scenario("scale-steps", tmp, "");
        var dataDir = Files.createDirectories(tmp.resolve("data"));
        try (var model = ScriptedModelServer.builder().scenario(scenario).build().start();
                var server = ServerProcess.start(List.of("-Xmx1g"), dataDir, null, model.baseUrl(),
                        tmp.resolve("server.log"), "--max-running", Integer.toString(most))) {
            var rest = server.rest();
            var report = new ArrayList<String>();
            long errors = 0;
            for (int level : levels) {
                var result = runLevel(rest, server, dataDir.resolve("workspaces"), level);
                errors += result.errors();
                report.add(result.line());
            }
            System.out.println("scale: " + most + " jobs at most on one control plane (2 cores), bare sleep PSS "
                    + kib(bareSleepPss()) + " KiB");
            report.forEach(System.out::println);
            assertThat(errors).as("jobs that did not complete; server log %s", tmp.resolve("server.log")).isZero();
        }
    }

    private record Level(long errors, String line) {}

    private Level runLevel(Rest rest, ServerProcess server, Path workspaces, int level) throws Exception {
        var pool = Executors.newVirtualThreadPerTaskExecutor();
        try (pool) {
            long start = System.nanoTime();
            List<String> ids = all(pool, level, i -> rest.schedule("scale job " + i));
            // A job is live once its sandbox has made its pipe.
            var deadline = System.nanoTime() + ALL_LIVE_TIMEOUT.toNanos();
            int ready = 0;
            while (System.nanoTime() < deadline && ready < level) {
                ready = (int) ids.stream().filter(id -> Files.exists(pipe(workspaces, id))).count();
                if (ready < level) {
                    Rest.sleep(250);
                }
            }
            double allLiveSeconds = (System.nanoTime() - start) / 1e9;
            long sandboxPss = descendantsPss(server.pid());
            long heapUsed = heapUsedBytes(server.pid());
            // Opening a pipe to write waits for its reader, which is there: each live job's first step.
            var live = ids.stream().filter(id -> Files.exists(pipe(workspaces, id))).toList();
            all(pool, live.size(), i -> Files.writeString(pipe(workspaces, live.get(i)), "go\n"));
            List<String> statuses = all(pool, level,
                    i -> rest.awaitEnd(ids.get(i), END_TIMEOUT).last().path("status").asText());
            long errors = statuses.stream().filter(status -> !status.equals("complete")).count();
            var overheads = new ArrayList<Long>();
            for (var id : ids) {
                overheads.addAll(stepOverheadsMs(server, id));
            }
            var sorted = overheads.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Level(errors, String.format(
                    "%4d jobs: %d errors, %d live after %.1f s; step overhead p50 %d ms, p99 %d ms (n=%d);"
                            + " server heap used %d MiB (cap 1024); PSS per live sandbox %d KiB",
                    level, errors, ready, allLiveSeconds, percentile(sorted, 50), percentile(sorted, 99), sorted.length,
                    heapUsed >> 20, kib(sandboxPss / Math.max(1, ready))));
        }
    }

    private interface Indexed<T> {
        T apply(int index) throws Exception;
    }

    private static <T> List<T> all(java.util.concurrent.ExecutorService pool, int count, Indexed<T> task)
            throws InterruptedException, ExecutionException {
        var futures = new ArrayList<Future<T>>();
        for (int i = 0; i < count; i++) {
            int index = i;
            futures.add(pool.submit((Callable<T>) () -> task.apply(index)));
        }
        var results = new ArrayList<T>();
        for (var future : futures) {
            results.add(future.get());
        }
        return results;
    }

    private static Path pipe(Path workspaces, String id) {
        return workspaces.resolve(id).resolve("go");
    }

    /** Wall time of each {@code sleep 1} step, start to the next step's start, minus the sleep. */
    private static List<Long> stepOverheadsMs(ServerProcess server, String id) {
        var read = Sse.read("http://127.0.0.1:" + server.port() + "/v1/jobs/" + id + "/events", Map.of(),
                seen -> false, Duration.ofSeconds(30));
        var starts = new ArrayList<Instant>();
        for (var event : read.dispatched()) {
            JsonNode json = json(event.data());
            if (json.has("tool_started")) {
                starts.add(Instant.parse(json.path("time").asText()));
            }
        }
        var overheads = new ArrayList<Long>();
        // starts[0] is the wait on the pipe; starts[1..4] the sleeps.
        for (int i = 1; i + 1 < starts.size(); i++) {
            overheads.add(Duration.between(starts.get(i), starts.get(i + 1)).toMillis() - STEP_SLEEP_MS);
        }
        return overheads;
    }

    private static JsonNode json(String text) {
        try {
            return Rest.JSON.readTree(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return -1;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** PSS of every process below the server: sandboxes, their daemons and what they run, Redis. */
    private static long descendantsPss(long serverPid) {
        return ProcessHandle.of(serverPid).orElseThrow().descendants()
                .filter(process -> !isRedis(process))
                .mapToLong(process -> pss(process.pid())).sum();
    }

    private static boolean isRedis(ProcessHandle process) {
        return process.info().command().map(command -> command.contains("redis")).orElse(false);
    }

    private static long bareSleepPss() throws IOException, InterruptedException {
        var sleep = new ProcessBuilder("sleep", "60").start();
        try {
            // Measured once it sleeps in nanosleep, its start-up done.
            var proc = Path.of("/proc", Long.toString(sleep.pid()));
            for (int i = 0; i < 500 && !(Files.readString(proc.resolve("cmdline")).startsWith("sleep")
                    && Files.readString(proc.resolve("wchan")).contains("nanosleep")); i++) {
                Thread.sleep(10);
            }
            return pss(sleep.pid());
        } finally {
            sleep.destroyForcibly().waitFor();
        }
    }

    /** PSS in bytes from smaps_rollup; 0 for a process that has gone. */
    static long pss(long pid) {
        try {
            for (var line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"), StandardCharsets.UTF_8)) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }

    /** The server's used heap, from {@code jcmd GC.heap_info}. */
    private static long heapUsedBytes(long pid) throws IOException, InterruptedException {
        var jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        var process = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
        var text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        var matcher = java.util.regex.Pattern.compile("used (\\d+)K").matcher(text);
        if (!matcher.find()) {
            throw new IllegalStateException("jcmd GC.heap_info said: " + text);
        }
        return Long.parseLong(matcher.group(1)) * 1024;
    }

    private static long kib(long bytes) {
        return bytes / 1024;
    }
}
