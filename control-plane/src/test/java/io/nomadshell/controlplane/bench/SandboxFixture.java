package io.nomadshell.controlplane.bench;

import io.nomadshell.controlplane.launch.local.DaemonCommand;
import io.nomadshell.controlplane.launch.local.LocalLauncher;
import io.nomadshell.controlplane.launch.local.LocalLauncherOptions;
import io.nomadshell.controlplane.launch.SandboxSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** Local launchers as the server builds them: the real daemon jar, bound read-only. */
final class SandboxFixture {
    static final Path DAEMON_JAR = Path.of(System.getProperty("nomadshell.daemonJar",
            "../agent-daemon/target/agent-daemon.jar")).toAbsolutePath().normalize();

    private SandboxFixture() {}

    static LocalLauncher daemonLauncher(Path dataDir, Path socket) {
        return LocalLauncher.of(DaemonCommand.configure(LocalLauncherOptions.builder(), DAEMON_JAR)
                .attachSocket(socket)
                .logDirectory(dataDir.resolve("sandbox-logs"))
                .build());
    }

    /**
     * The bare-sandbox peer: {@code count} fresh sandboxes (bubblewrap, uid, cgroup, disk, seccomp as
     * for a job) running {@code /bin/true}, each timed from launch to its exit.
     */
    static Percentiles bwrapTrue(Path dataDir, Path socket, int count) throws Exception {
        var launcher = launcher(dataDir, socket, List.of("/bin/true"));
        var samples = new long[count];
        for (int i = 0; i < count; i++) {
            var workspace = Files.createDirectories(dataDir.resolve("fresh-" + i));
            long start = System.nanoTime();
            try (var sandbox = launcher.launch(new SandboxSpec("jfresh" + i, "unused", workspace))) {
                var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (sandbox.exitReason().isEmpty() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(100_000);
                }
                samples[i] = System.nanoTime() - start;
            }
        }
        return new Percentiles(samples);
    }

    static LocalLauncher launcher(Path dataDir, Path socket, List<String> command) {
        return LocalLauncher.of(LocalLauncherOptions.builder()
                .command(command)
                .attachSocket(socket)
                .logDirectory(dataDir.resolve("sandbox-logs"))
                .build());
    }
}
