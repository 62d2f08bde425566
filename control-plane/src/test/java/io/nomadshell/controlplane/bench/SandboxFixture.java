package io.nomadshell.controlplane.bench;

import io.nomadshell.controlplane.launch.local.LocalLauncher;
import io.nomadshell.controlplane.launch.local.LocalLauncherOptions;
import java.nio.file.Path;
import java.util.List;

/** Local launchers as the server builds them: the real daemon jar, bound read-only. */
final class SandboxFixture {
    static final Path DAEMON_JAR = Path.of(System.getProperty("nomadshell.daemonJar",
            "../agent-daemon/target/agent-daemon.jar")).toAbsolutePath().normalize();
    private static final Path DAEMON_IN_SANDBOX = Path.of("/opt/nomad-shell/daemon");

    private SandboxFixture() {}

    static LocalLauncher daemonLauncher(Path dataDir, Path socket) {
        var javaHome = Path.of(System.getProperty("java.home"));
        return launcher(dataDir, socket, List.of(javaHome.resolve("bin/java").toString(), "-Xmx128m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar",
                DAEMON_IN_SANDBOX.resolve(DAEMON_JAR.getFileName()).toString()));
    }

    static LocalLauncher launcher(Path dataDir, Path socket, List<String> command) {
        var javaHome = Path.of(System.getProperty("java.home"));
        return LocalLauncher.of(LocalLauncherOptions.builder()
                .command(command)
                .readOnlyBind(javaHome)
                .readOnlyBind(DAEMON_JAR.getParent(), DAEMON_IN_SANDBOX)
                .attachSocket(socket)
                .logDirectory(dataDir.resolve("sandbox-logs"))
                .build());
    }
}
