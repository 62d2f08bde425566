package io.nomadshell.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.pool.WarmPoolOptions;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ready time with the local launcher: from Schedule accepted to the first tool call done, through
 * the whole control plane (Redis queue, bubblewrap sandbox, daemon start and attach, model call),
 * with every sandbox started for its job (cold) and with a warm pool, each job once the last one's
 * sandbox is gone, against the same sandbox
 * running {@code /bin/true} (bubblewrap, cgroup, disk, uid and seccomp as for a job) in the same run.
 * The scripted model answers at once, so this is the platform's own cost.
 * Run: {@code ./mvnw -pl control-plane test -Dtest=ReadyTimeBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class ReadyTimeBenchmark {
    private static final int JOBS = 20;
    private static final int POOL = 2;
    private static final Duration POOL_WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dataDir;

    @Test
    void scheduleToFirstToolCallDone() throws Exception {
        var scenario = Scenario.load(Path.of(getClass().getResource("/scenarios/exec-true.json").toURI()));
        try (var model = ScriptedModelServer.builder().scenario(scenario).build().start()) {
            var cold = measure(model.baseUrl(), dataDir.resolve("cold"), WarmPoolOptions.NONE).total();
            var phases = measure(model.baseUrl(), dataDir.resolve("warm"),
                    new WarmPoolOptions(POOL, WarmPoolOptions.DEFAULT_TTL, 4L << 30));
            var warm = phases.total();
            var bare = SandboxFixture.bwrapTrue(dataDir.resolve("bare"),
                    Files.createDirectories(dataDir.resolve("bare/attach")).resolve("attach.sock"), JOBS);
            System.out.println("ready time (schedule accepted -> first tool call done), local launcher, cold: " + cold);
            System.out.println("ready time (schedule accepted -> first tool call done), local launcher, warm pool: " + warm);
            System.out.println("  warm, schedule accepted -> running (queue, dispatch, claim): " + phases.toRunning());
            System.out.println("  warm, running -> first tool started (the first model call): " + phases.toTool());
            System.out.println("  warm, first tool started -> done (exec true in the member): " + phases.tool());
            System.out.println("bwrap ... /bin/true, the same sandbox, start to exit: " + bare);
            System.out.printf("warm / bwrap true: p50 %.2fx, p99 %.2fx; cold / warm: p50 %.1fx%n",
                    warm.millis(50) / bare.millis(50), warm.millis(99) / bare.millis(99),
                    cold.millis(50) / warm.millis(50));
        }
    }

    /** The ready time and its three phases: to running, then to the first tool's start, then to its end. */
    private record Phases(Percentiles total, Percentiles toRunning, Percentiles toTool, Percentiles tool) {}

    /** One job to warm the control plane up, then {@link #JOBS} one after the other, each on a full pool when there is one. */
    private static Phases measure(String modelUrl, Path home, WarmPoolOptions pool) throws Exception {
        var socket = home.resolve("attach/attach.sock");
        var meters = new SimpleMeterRegistry();
        try (var controlPlane = ControlPlane.start(ControlPlaneOptions.builder()
                        .dataDir(home)
                        .launcher(SandboxFixture.daemonLauncher(home, socket))
                        .model(new ModelOptions(modelUrl, "bench", "scripted", 0))
                        .maxRunning(pool.size() + 1)
                        .warmPool(pool)
                        .build());
                var attach = AttachSocketServer.serve(socket, controlPlane.attachService())) {
            controlPlane.metrics().bindTo(meters);
            var samples = new long[JOBS];
            String previous = null;
            var toRunning = new long[JOBS];
            var toTool = new long[JOBS];
            var tool = new long[JOBS];
            for (int i = -1; i < JOBS; i++) {
                if (previous != null) {
                    awaitTornDown(home.resolve("workspaces").resolve(previous));
                }
                awaitPool(meters, pool.size());
                long start = System.nanoTime();
                var job = controlPlane.jobs().schedule("bench", "run true", null);
                var firstToolDone = new AtomicLong();
                var running = new AtomicLong();
                var firstToolStarted = new AtomicLong();
                controlPlane.jobs().watch("bench", job.id(), 0, event -> {
                    long now = System.nanoTime();
                    switch (event.getKindCase()) {
                        case STATUS_CHANGED -> {
                            if (event.getStatusChanged().getStatus().equals("running")) {
                                running.compareAndSet(0, now);
                            }
                        }
                        case TOOL_STARTED -> firstToolStarted.compareAndSet(0, now);
                        case TOOL_FINISHED -> firstToolDone.compareAndSet(0, now);
                        default -> {}
                    }
                }, () -> false);
                assertThat(controlPlane.jobs().get("bench", job.id()).status().wireName()).isEqualTo("complete");
                if (i >= 0) {
                    samples[i] = firstToolDone.get() - start;
                    toRunning[i] = running.get() - start;
                    toTool[i] = firstToolStarted.get() - running.get();
                    tool[i] = firstToolDone.get() - firstToolStarted.get();
                }
                previous = job.id();
            }
            if (pool.size() > 0) {
                assertThat(meters.get("nomadshell.pool.claims").tag("profile", "default").counter().count()).as("jobs that claimed").isEqualTo(JOBS + 1);
            }
            return new Phases(new Percentiles(samples), new Percentiles(toRunning), new Percentiles(toTool),
                    new Percentiles(tool));
        }
    }

    /**
     * Waits until the last job's sandbox is gone (its workspace is removed last): a job's start is
     * measured on a control plane done with the one before, not behind its teardown for a free slot.
     */
    private static void awaitTornDown(Path workspace) {
        var deadline = System.nanoTime() + POOL_WAIT.toNanos();
        while (Files.exists(workspace)) {
            assertThat(System.nanoTime()).as("the last job's sandbox was torn down in time").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    private static void awaitPool(SimpleMeterRegistry meters, int size) {
        var deadline = System.nanoTime() + POOL_WAIT.toNanos();
        while (meters.get("nomadshell.pool.size").tag("profile", "default").gauge().value() < size) {
            assertThat(System.nanoTime()).as("the pool refilled in time").isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
