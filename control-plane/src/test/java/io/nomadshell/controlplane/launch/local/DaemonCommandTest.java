package io.nomadshell.controlplane.launch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.nomadshell.controlplane.launch.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's command, and the real daemon jar of this build started with it in a real sandbox:
 * the build made the daemon's AOT cache and the launched daemon maps it (a build that stops making
 * it, or a cache the JVM refuses, fails here).
 */
class DaemonCommandTest {
    private static final Path DAEMON_JAR = Path.of(System.getProperty("nomadshell.daemonJar",
            "../agent-daemon/target/agent-daemon.jar")).toAbsolutePath().normalize();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void theLaunchedDaemonMapsTheAotCacheItsBuildMade() throws Exception {
        assertThat(DAEMON_JAR.resolveSibling(DaemonCommand.AOT_CACHE)).as("the build's AOT cache").isRegularFile();
        var options = DaemonCommand.configure(LocalLauncherOptions.builder(), DAEMON_JAR)
                // Nobody listens: the daemon starts and keeps redialing, which is all this needs.
                .attachSocket(Files.createDirectories(tmp.resolve("run")).resolve("attach.sock"))
                .logDirectory(tmp.resolve("logs"))
                .build();
        var workspace = Files.createDirectories(tmp.resolve("workspace"));
        try (var sandbox = LocalLauncher.of(options).launch(new SandboxSpec("jaotcache", "token", workspace))) {
            var log = tmp.resolve("logs/jaotcache.log");
            var deadline = Instant.now().plus(TIMEOUT);
            while (!logSays(log, "dialing")) {
                if (Instant.now().isAfter(deadline) || sandbox.exitReason().isPresent()) {
                    fail("the daemon did not start: " + sandbox.exitReason().orElse("") + "\n" + read(log));
                }
                Thread.sleep(50);
            }
            var daemon = ProcessHandle.current().descendants()
                    .filter(p -> p.info().command().filter(c -> c.endsWith("/bin/java")).isPresent())
                    .findFirst();
            assertThat(daemon).as("the daemon's JVM").isPresent();
            assertThat(Files.readString(Path.of("/proc", Long.toString(daemon.get().pid()), "maps")))
                    .as("the daemon's memory maps")
                    .contains(DaemonCommand.IN_SANDBOX.resolve(DaemonCommand.AOT_CACHE).toString());
            // The JVM says on standard output (the sandbox's log) when it cannot use a cache.
            assertThat(read(log)).doesNotContain("[aot]");
        }
    }

    @Test
    void theCacheIsPassedOnlyWhenTheBuildMadeOne() throws IOException {
        var jar = Files.createFile(tmp.resolve("agent-daemon.jar"));
        Files.writeString(tmp.resolve(DaemonCommand.JVM_OPTIONS), "-Xmx64m\n");
        assertThat(command(jar)).contains("@/opt/nomad-shell/daemon/agent-daemon.jvm-options")
                .noneMatch(arg -> arg.startsWith("-XX:AOTCache"));
        Files.createFile(tmp.resolve(DaemonCommand.AOT_CACHE));
        assertThat(command(jar)).contains("-XX:AOTCache=/opt/nomad-shell/daemon/agent-daemon.aot")
                .endsWith("-jar", "/opt/nomad-shell/daemon/agent-daemon.jar");
    }

    @Test
    void aJarWithoutItsJvmOptionsIsRefused() throws IOException {
        var jar = Files.createFile(tmp.resolve("agent-daemon.jar"));
        assertThatThrownBy(() -> DaemonCommand.configure(LocalLauncherOptions.builder(), jar))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(DaemonCommand.JVM_OPTIONS);
    }

    private List<String> command(Path jar) {
        return DaemonCommand.configure(LocalLauncherOptions.builder(), jar)
                .attachSocket(Path.of("/run/attach.sock"))
                .logDirectory(tmp.resolve("logs"))
                .build()
                .command();
    }

    private static boolean logSays(Path log, String text) throws IOException {
        return read(log).contains(text);
    }

    private static String read(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }
}
