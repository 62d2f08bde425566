package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real server processes (the CLI) on one Redis, local bubblewrap sandboxes, the scripted model.
 *
 * <p>Failover: a job whose scenario keeps making steps; {@code kill -9} of the replica driving it;
 * the time from the kill to the job's next {@code tool_started} event (written by the other
 * replica, which takes the lapsed lease and resumes the job from its transcript in a new sandbox:
 * a local sandbox dies with its replica), over {@code -Dfailover.trials} trials (10), against the
 * lease TTL, which bounds the take-over. Then as many trials of a clean stop (SIGTERM) of the driving
 * replica, which gives the lease back as it stops, so the survivor's next housekeeping pass takes the
 * job: its p50 against the kill's, in the same run. The replicas share one data dir, as replicas on one host
 * with a shared disk would, so the survivor finds the job's workspace.
 *
 * <p>Throughput: {@code -Dthroughput.jobs} hello-world jobs (20) scheduled at once against one replica,
 * then split across two (each {@code --max-running} {@value #MAX_RUNNING}), from the first
 * schedule to the last end seen; jobs/s each and the ratio.
 *
 * <p>Run: {@code ./mvnw -o -B -pl e2e -am verify -Dtest=ClusterFailoverBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false}
 */
class ClusterFailoverBenchmark {
    /** The dispatcher's lease TTL (Dispatcher.LEASE_TTL). */
    private static final Duration LEASE_TTL = Duration.ofSeconds(15);
    private static final Duration PROGRESS_TIMEOUT = LEASE_TTL.plusSeconds(90);
    private static final Duration RUN_UP_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration END_TIMEOUT = Duration.ofMinutes(5);
    private static final int MAX_RUNNING = 2;

    @TempDir
    Path tmp;

    @Test
    void failoverTimeAndThroughputOfTwoReplicas() throws Exception {
        int trials = Integer.getInteger("failover.trials", 10);
        int jobs = Integer.getInteger("throughput.jobs", 20);
        try (var redis = EmbeddedRedis.start(tmp.resolve("redis"))) {
            var failover = failover(redis, trials);
            var throughput = throughput(redis, jobs);
            System.out.println(failover);
            System.out.println(throughput);
        }
    }

    // --- failover ---

    /** How a trial stops the replica driving the job. */
    private enum Stop {
        KILL("kill -9"), TERM("SIGTERM");

        final String words;

        Stop(String words) {
            this.words = words;
        }
    }

    /** One trial's times, from the signal: to the lease's epoch moving, and to the survivor's next {@code tool_started}. */
    private record Trial(long takeOverMs, long progressMs) {}

    private String failover(EmbeddedRedis redis, int trials) throws Exception {
        var steps = Files.writeString(tmp.resolve("steps.json"), """
                {"name": "steps",
                 "turns": [
                   {"repeat": 400, "tool_calls": [{"name": "exec", "arguments": {"command": "echo {{turn}} >> steps.log; sleep 0.5"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "counted"}}]}
                 ]}
                """);
        var dataDir = Files.createDirectories(tmp.resolve("failover"));
        var replicas = new ServerProcess[2];
        var results = new StringBuilder();
        try (var model = ScriptedModelServer.builder().scenario(Scenario.load(steps)).build().start();
                var connection = RedisConnection.connect(redis.url(), "benchmark")) {
            var store = new JobStore(connection);
            for (int i = 0; i < 2; i++) {
                replicas[i] = startReplica(dataDir, redis, model, i, 0);
            }
            long killP50 = 0;
            int generation = 0;
            for (var how : Stop.values()) {
                var times = new ArrayList<Trial>();
                for (int trial = 0; trial < trials; trial++) {
                    var job = replicas[trial % 2].rest().schedule("Count slowly, " + how.words + " trial " + trial);
                    awaitSteps(replicas[0].rest(), job, 2);
                    int driver = driverOf(replicas, job);
                    var survivor = replicas[1 - driver];
                    var result = stopAndAwaitProgress(replicas[driver], how, store, connection, job);
                    assertThat(result).as("%s trial %d: no progress within %s of the signal\n%s", how.words, trial,
                            PROGRESS_TIMEOUT, Fixtures.history(survivor.port(), job)).isNotNull();
                    times.add(result);
                    System.out.printf("failover (%s) trial %d: %d ms (lease taken over after %d ms)%n", how.words, trial,
                            result.progressMs(), result.takeOverMs());
                    // The next trial starts from two idle replicas: a replica reclaims the shared data dir's
                    // stale workspace mounts when it starts.
                    survivor.rest().post("/v1/jobs/" + job + ":cancel", "application/json", "{}");
                    survivor.rest().awaitEnd(job, END_TIMEOUT);
                    awaitNoProcessWith(job);
                    replicas[driver] = startReplica(dataDir, redis, model, driver, ++generation);
                }
                var progress = sorted(times.stream().map(Trial::progressMs).toList());
                var leases = sorted(times.stream().map(Trial::takeOverMs).toList());
                long p50 = progress[(progress.length - 1) / 2];
                long max = progress[progress.length - 1];
                if (how == Stop.KILL) {
                    killP50 = p50;
                }
                results.append(String.format(Locale.ROOT, """
                        failover (%s of the driving replica -> next tool_started), n=%d: p50 %d ms, max %d ms, min %d ms
                          of which signal -> lease taken over: p50 %d ms, max %d ms
                          lease TTL %d ms; p50 / TTL %.2fx, max / TTL %.2fx; p50 / kill -9 p50 %.2fx; all: %s
                        """, how.words, progress.length, p50, max, progress[0], leases[(leases.length - 1) / 2],
                        leases[leases.length - 1], LEASE_TTL.toMillis(), p50 / (double) LEASE_TTL.toMillis(),
                        max / (double) LEASE_TTL.toMillis(), p50 / (double) killP50, Arrays.toString(progress)));
            }
        } finally {
            for (var replica : replicas) {
                if (replica != null) replica.close();
            }
        }
        return results.toString().stripTrailing();
    }

    /**
     * Stops {@code driver} as {@code how} says and times, from the signal, the lease's epoch moving (the
     * survivor's take-over) and the job's next {@code tool_started} after it (the stopped replica's later
     * writes are fenced, so that one is the survivor's); null if there was none within {@link #PROGRESS_TIMEOUT}.
     */
    private static Trial stopAndAwaitProgress(ServerProcess driver, Stop how, JobStore store, RedisConnection connection,
            String job) throws Exception {
        var epoch = connection.commands().hget("ns:job:" + job, "lease_epoch");
        long signalled = System.nanoTime();
        // A clean stop takes seconds (its sandboxes close, its lease is given back): the clock runs meanwhile.
        var stopping = how == Stop.KILL ? null : Thread.ofVirtual().start(() -> {
            try {
                driver.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        if (how == Stop.KILL) {
            driver.kill();
        }
        long deadline = signalled + PROGRESS_TIMEOUT.toNanos();
        long takenOver = 0;
        int before = 0;
        Trial trial = null;
        while (System.nanoTime() < deadline) {
            if (takenOver == 0 && !Objects.equals(epoch, connection.commands().hget("ns:job:" + job, "lease_epoch"))) {
                takenOver = System.nanoTime();
                before = store.eventsAfter(job, 0, 100_000).size();
            }
            if (takenOver != 0
                    && store.eventsAfter(job, 0, 100_000).stream().skip(before).anyMatch(JobEvent::hasToolStarted)) {
                trial = new Trial((takenOver - signalled) / 1_000_000, (System.nanoTime() - signalled) / 1_000_000);
                break;
            }
            Rest.sleep(20);
        }
        if (stopping != null) {
            stopping.join();
        }
        return trial;
    }

    private static long[] sorted(List<Long> millis) {
        return millis.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    private ServerProcess startReplica(Path dataDir, EmbeddedRedis redis, ScriptedModelServer model, int index,
            int generation) throws Exception {
        var attach = Files.createDirectories(tmp.resolve("attach-" + index));
        return ServerProcess.start(dataDir, redis.url(), model.baseUrl(),
                tmp.resolve("replica-" + index + "-" + generation + ".log"),
                "--max-steps", "1000", "--attach-socket", attach.resolve("attach.sock").toString(),
                "--sandbox-uid-base", Integer.toString(1_100_000 + index * 100_000));
    }

    private static void awaitSteps(Rest rest, String job, int steps) {
        long deadline = System.nanoTime() + RUN_UP_TIMEOUT.toNanos();
        while (rest.status(job).path("steps").asInt() < steps && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(rest.status(job).path("steps").asInt()).as("%s", rest.status(job)).isGreaterThanOrEqualTo(steps);
    }

    /** Which replica's process tree holds the job's sandbox. */
    private static int driverOf(ServerProcess[] replicas, String job) {
        for (long pid : Fixtures.processesWith(job)) {
            for (var process = ProcessHandle.of(pid); process.isPresent(); process = process.flatMap(ProcessHandle::parent)) {
                for (int i = 0; i < replicas.length; i++) {
                    if (process.get().pid() == replicas[i].pid()) {
                        return i;
                    }
                }
            }
        }
        throw new AssertionError("no replica holds a sandbox of job " + job);
    }

    private static void awaitNoProcessWith(String job) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Fixtures.processesWith(job).isEmpty() && System.nanoTime() < deadline) {
            Rest.sleep(200);
        }
        assertThat(Fixtures.processesWith(job)).as("job %s's sandbox after it ended", job).isEmpty();
    }

    // --- throughput ---

    private String throughput(EmbeddedRedis redis, int jobs) throws Exception {
        try (var model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
                var first = throughputReplica(redis, model, 0)) {
            double one = jobsPerSecond(List.of(first.rest()), jobs);
            try (var second = throughputReplica(redis, model, 1)) {
                double two = jobsPerSecond(List.of(first.rest(), second.rest()), jobs);
                return String.format(Locale.ROOT, """
                        throughput, %d hello-world jobs, --max-running %d per replica: one replica %.2f jobs/s, \
                        two replicas %.2f jobs/s; two / one %.2fx""", jobs, MAX_RUNNING, one, two, two / one);
            }
        }
    }

    private ServerProcess throughputReplica(EmbeddedRedis redis, ScriptedModelServer model, int index) throws Exception {
        return ServerProcess.start(Files.createDirectories(tmp.resolve("throughput-" + index)), redis.url(),
                model.baseUrl(), tmp.resolve("throughput-" + index + ".log"),
                "--max-running", Integer.toString(MAX_RUNNING),
                "--sandbox-uid-base", Integer.toString(1_300_000 + index * 100_000));
    }

    /** Schedules {@code jobs} at once, round robin over {@code replicas}; from the first schedule to the last end seen. */
    private static double jobsPerSecond(List<Rest> replicas, int jobs) throws Exception {
        long start = System.nanoTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var ends = new ArrayList<Future<String>>();
            for (int i = 0; i < jobs; i++) {
                var rest = replicas.get(i % replicas.size());
                ends.add(pool.submit(() -> {
                    var job = rest.schedule(Fixtures.HELLO_TASK);
                    return rest.awaitEnd(job, END_TIMEOUT).last().path("status").asText();
                }));
            }
            var statuses = new ArrayList<String>();
            for (var end : ends) {
                statuses.add(end.get());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(statuses).as("every job completes").allMatch("complete"::equals);
            return jobs / seconds;
        }
    }
}
