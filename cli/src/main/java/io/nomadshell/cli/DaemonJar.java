package io.nomadshell.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** Finds the agent daemon's jar: NOMAD_SHELL_DAEMON_JAR, else beside this build in the source tree. */
final class DaemonJar {
    private DaemonJar() {}

    static @Nullable Path locate() {
        var fromEnv = System.getenv("NOMAD_SHELL_DAEMON_JAR");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        try {
            // cli/target/nomad-shell.jar → agent-daemon/target/agent-daemon.jar
            var self = Path.of(DaemonJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            var candidate = self.getParent().getParent().getParent().resolve("agent-daemon/target/agent-daemon.jar");
            return Files.isRegularFile(candidate) ? candidate : null;
        } catch (URISyntaxException | NullPointerException e) {
            return null;
        }
    }
}
