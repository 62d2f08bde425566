package io.nomadshell.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.launch.local.LocalLauncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The private memory of idle attached agent daemons (PSS and Private_Dirty from smaps_rollup), against
 * a bare {@code sleep} in the same kind of sandbox; and the daemon's start, from spawning its sandbox
 * to the control plane holding its Hello, against {@code bwrap ... true} with the same isolation.
 * Run as root: {@code ./mvnw -pl control-plane test -Dtest=DaemonMemoryBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dbench.sandboxes=N} for more or fewer than 10 daemons).
 */
class DaemonMemoryBenchmark {
    private static final int SANDBOXES = Integer.getInteger("bench.sandboxes", 10);
    /** Long enough for start-up work (JIT, the first heartbeats) to settle before memory is read. */
    private static final Duration IDLE = Duration.ofSeconds(5);

    @TempDir
    Path dataDir;

    @Test
    void idleAttachedDaemonVersusSleep() throws Exception {
        try (var stack = AttachStack.start(dataDir)) {
            var daemonLauncher = SandboxFixture.daemonLauncher(dataDir, stack.socket);
            // One daemon first, not counted: the control plane's own first Attach is slow (cold JIT).
            try (var warmUp = startDaemon(daemonLauncher, stack, "jwarmupwarmupwarmup")) {
                stack.sessions.forget("jwarmupwarmupwarmup", "warm-up done");
            }
            var daemons = new ArrayList<Sandbox>();
            var startSamples = new long[SANDBOXES];
            var sleeps = new ArrayList<Sandbox>();
            try {
                for (int i = 0; i < SANDBOXES; i++) {
                    long start = System.nanoTime();
                    daemons.add(startDaemon(daemonLauncher, stack, "jbenchdaemon" + i));
                    startSamples[i] = System.nanoTime() - start;
                }
                var sleepLauncher = SandboxFixture.launcher(dataDir, stack.socket, List.of("/bin/sleep", "600"));
                for (int i = 0; i < SANDBOXES; i++) {
                    sleeps.add(sleepLauncher.launch(spec("jbenchsleep" + i, "unused")));
                }
                Thread.sleep(IDLE);
                var daemonMemory = Memory.of(processesRunning("/bin/java"));
                var sleepMemory = Memory.of(processesRunning("/sleep"));
                var bwrapTrue = SandboxFixture.bwrapTrue(dataDir, stack.socket, SANDBOXES);
                var attached = new Percentiles(startSamples);
                System.out.println("idle attached daemon: " + daemonMemory);
                System.out.println("bare sleep:           " + sleepMemory);
                System.out.printf("daemon minus sleep, p50: PSS %.1f MB, private dirty %.1f MB%n",
                        daemonMemory.pss().p50() - sleepMemory.pss().p50(),
                        daemonMemory.privateDirty().p50() - sleepMemory.privateDirty().p50());
                System.out.println("spawn -> Attach Hello:       " + attached);
                System.out.println("bwrap ... true (spawn->exit): " + bwrapTrue);
                System.out.printf("ratio (daemon attached / bwrap true), p50: %.1fx, p99: %.1fx%n",
                        attached.millis(50) / bwrapTrue.millis(50), attached.millis(99) / bwrapTrue.millis(99));
                assertThat(daemonMemory.count()).isEqualTo(SANDBOXES);
                assertThat(sleepMemory.count()).isEqualTo(SANDBOXES);
            } finally {
                daemons.forEach(Sandbox::close);
                sleeps.forEach(Sandbox::close);
            }
        }
    }

    private Sandbox startDaemon(LocalLauncher launcher, AttachStack stack, String jobId) throws Exception {
        stack.sessions.expect(jobId);
        var sandbox = launcher.launch(spec(jobId, stack.tokens.issue(jobId, Instant.now().plusSeconds(600))));
        try {
            stack.sessions.await(jobId, Duration.ofSeconds(60));
            return sandbox;
        } catch (Exception e) {
            sandbox.close();
            throw e;
        }
    }

    private SandboxSpec spec(String jobId, String token) throws Exception {
        return new SandboxSpec(jobId, token, Files.createDirectories(dataDir.resolve("ws-" + jobId)));
    }

    /** This JVM's descendants (the sandboxes' processes) whose executable ends with {@code suffix}. */
    private static List<Long> processesRunning(String suffix) {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().filter(c -> c.endsWith(suffix)).isPresent())
                .map(ProcessHandle::pid)
                .toList();
    }

    /** PSS and Private_Dirty of a set of processes, in MB, as p50 and max. */
    private record Memory(int count, Spread pss, Spread privateDirty) {
        static Memory of(List<Long> pids) throws Exception {
            var pss = new double[pids.size()];
            var dirty = new double[pids.size()];
            for (int i = 0; i < pids.size(); i++) {
                var rollup = Files.readAllLines(Path.of("/proc", pids.get(i).toString(), "smaps_rollup"));
                pss[i] = kilobytes(rollup, "Pss:") / 1024.0;
                dirty[i] = kilobytes(rollup, "Private_Dirty:") / 1024.0;
            }
            return new Memory(pids.size(), Spread.of(pss), Spread.of(dirty));
        }

        private static long kilobytes(List<String> rollup, String field) {
            return rollup.stream().filter(l -> l.startsWith(field))
                    .mapToLong(l -> Long.parseLong(l.substring(field.length()).replace("kB", "").trim()))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no " + field + " in smaps_rollup"));
        }

        @Override
        public String toString() {
            return String.format("PSS p50 %.1f MB, max %.1f MB; private dirty p50 %.1f MB, max %.1f MB (n=%d)",
                    pss.p50(), pss.max(), privateDirty.p50(), privateDirty.max(), count);
        }
    }

    private record Spread(double p50, double max) {
        static Spread of(double[] values) {
            var sorted = values.clone();
            Arrays.sort(sorted);
            return sorted.length == 0 ? new Spread(0, 0) : new Spread(sorted[(sorted.length - 1) / 2], sorted[sorted.length - 1]);
        }
    }
}
