package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ready time with the Nomad launcher, against the local launcher in the same run: from Schedule
 * accepted to the first tool call done (Redis queue, dispatcher, sandbox start, daemon start and
 * Attach, one scripted model call, one {@code exec true}); ten jobs each, one after the other.
 * Needs the testbed ({@code testbed/nomad-testbed.sh start}).
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=NomadReadyTimeBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class NomadReadyTimeBenchmark {
    private static final int JOBS = 10;

    @Test
    void scheduleToFirstToolCallDoneNomadVersusLocal(@TempDir Path dataDir) throws Exception {
        var prefix = NomadCluster.newJobPrefix();
        try (var model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("exec-true", dataDir, "")).build().start()) {
            long[] nomad;
            try (var cluster = NomadCluster.start(dataDir.resolve("nomad"), model.baseUrl(), prefix)) {
                nomad = readyTimes(cluster.controlPlane());
            } finally {
                NomadTestbed.assertNothingLeftAndPurge(prefix);
            }
            long[] local;
            try (var cluster = TestCluster.start(dataDir.resolve("local"), model.baseUrl(), 1)) {
                local = readyTimes(cluster.controlPlane());
            }
            System.out.printf("ready time, Nomad launcher: %s%n", summary(nomad));
            System.out.printf("ready time, local launcher: %s%n", summary(local));
            System.out.printf("ratio (Nomad / local), p50: %.1fx%n", (double) p(nomad, 50) / p(local, 50));
        }
    }

    private static long[] readyTimes(ControlPlane controlPlane) throws Exception {
        var samples = new long[JOBS];
        for (int i = 0; i < JOBS; i++) {
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
