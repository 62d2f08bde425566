package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import io.nomadshell.controlplane.pool.WarmPoolOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ready time with the Nomad launcher, cold and with a warm pool, against the local launcher and
 * against {@code docker run --rm --network none <sandbox image> true} in the same run: from Schedule
 * accepted to the first tool call done (Redis queue, dispatcher, sandbox start or claim, daemon start
 * and Attach, one scripted model call, one {@code exec true}); ten jobs each, one after the other
 * (with the pool, each once the pool is full again).
 * Needs the testbed ({@code testbed/nomad-testbed.sh start}).
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=NomadReadyTimeBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class NomadReadyTimeBenchmark {
    private static final int JOBS = 10;
    private static final int POOL = 2;

    @Test
    void scheduleToFirstToolCallDoneNomadVersusLocal(@TempDir Path dataDir) throws Exception {
        var prefix = NomadCluster.newJobPrefix();
        try (var model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("exec-true", dataDir, "")).build().start()) {
            long[] nomad;
            try (var cluster = NomadCluster.start(dataDir.resolve("nomad"), model.baseUrl(), prefix)) {
                nomad = readyTimes(cluster.controlPlane(), () -> {});
            } finally {
                NomadTestbed.assertNothingLeftAndPurge(prefix);
            }
            long[] warm;
            var warmPrefix = NomadCluster.newJobPrefix();
            try (var cluster = NomadCluster.start(dataDir.resolve("warm"), model.baseUrl(), warmPrefix,
                    UnaryOperator.identity(), NomadCluster.RESOURCES,
                    options -> options.warmPool(new WarmPoolOptions(POOL, Duration.ofMinutes(10), 4L << 30)))) {
                warm = readyTimes(cluster.controlPlane(), () -> awaitFullPool(cluster));
            } finally {
                NomadTestbed.assertNothingLeftAndPurge(warmPrefix);
            }
            var docker = dockerRunTrue();
            long[] local;
            try (var cluster = TestCluster.start(dataDir.resolve("local"), model.baseUrl(), 1)) {
                local = readyTimes(cluster.controlPlane(), () -> {});
            }
            System.out.printf("ready time, Nomad launcher, cold: %s%n", summary(nomad));
            System.out.printf("ready time, Nomad launcher, warm pool of %d: %s%n", POOL, summary(warm));
            System.out.printf("docker run --rm --network none %s true: %s%n", NomadTestbed.IMAGE, summary(docker));
            System.out.printf("ready time, local launcher: %s%n", summary(local));
            System.out.printf("ratio (Nomad / local), p50: %.1fx%n", (double) p(nomad, 50) / p(local, 50));
            System.out.printf("ratio (Nomad warm / docker run true): p50 %.2fx, p99 %.2fx; cold / warm, p50: %.1fx%n",
                    (double) p(warm, 50) / p(docker, 50), (double) p(warm, 99) / p(docker, 99),
                    (double) p(nomad, 50) / p(warm, 50));
        }
    }

    /** What waits before each timed job. */
    private interface BeforeJob {
        void run() throws Exception;
    }

    /** Before each warm job: every member ready, so the job claims one (never timed). */
    private static void awaitFullPool(NomadCluster cluster) throws InterruptedException {
        var deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!cluster.rest().get("/metrics").body().contains("nomadshell_pool_size{profile=\"default\"} " + POOL + ".0")) {
            assertThat(System.nanoTime()).as("the warm pool refilled within 120 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** The peer: the sandbox image's container, started and run to its end, with no Nomad and no daemon. */
    private static long[] dockerRunTrue() throws Exception {
        var command = List.of("docker", "run", "--rm", "--network", "none", "--entrypoint", "true", NomadTestbed.IMAGE);
        NomadTestbed.run(command, Duration.ofSeconds(60)); // warm-up, as the jobs have one
        var samples = new long[JOBS];
        for (int i = 0; i < JOBS; i++) {
            long start = System.nanoTime();
            var result = NomadTestbed.run(command, Duration.ofSeconds(60));
            samples[i] = System.nanoTime() - start;
            assertThat(result.exit()).as("docker run: %s", result.output()).isZero();
        }
        return samples;
    }

    private static long[] readyTimes(ControlPlane controlPlane, BeforeJob beforeEach) throws Exception {
        var samples = new long[JOBS];
        for (int i = 0; i < JOBS; i++) {
            beforeEach.run();
            long start = System.nanoTime();
            var job = controlPlane.jobs().schedule("bench", "run true", null);
            var firstToolDone = new AtomicLong();
            controlPlane.jobs().watch("bench", job.id(), 0, event -> {
                if (event.getKindCase() == JobEvent.KindCase.TOOL_FINISHED && firstToolDone.get() == 0) {
                    firstToolDone.set(System.nanoTime());
                }
            }, () -> false);
            assertThat(controlPlane.jobs().get("bench", job.id()).status().wireName()).isEqualTo("complete");
            samples[i] = firstToolDone.get() - start;
        }
        return samples;
    }

    private static long p(long[] samples, int percentile) {
        var sorted = samples.clone();
        Arrays.sort(sorted);
        return sorted[Math.max(0, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1)];
    }

    private static String summary(long[] samples) {
        return String.format("p50 %.2f s, p99 %.2f s (n=%d)", p(samples, 50) / 1e9, p(samples, 99) / 1e9, samples.length);
    }
}
