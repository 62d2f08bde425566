package io.nomadshell.controlplane.bench;

import io.nomadshell.controlplane.launch.local.DaemonCommand;
import io.nomadshell.controlplane.launch.local.LocalLauncher;
import io.nomadshell.controlplane.launch.local.LocalLauncherOptions;
import java.nio.file.Path;
import java.util.List;

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

    static LocalLauncher launcher(Path dataDir, Path socket, List<String> command) {
        return LocalLauncher.of(LocalLauncherOptions.builder()
                .command(command)
                .attachSocket(socket)
                .logDirectory(dataDir.resolve("sandbox-logs"))
                .build());
    }
}
