package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * The agent daemon as a local sandbox's command: this JVM's runtime and the daemon's jar (with its
 * {@code lib/}) bound read-only, a small heap, the JIT's fast tier (the daemon mostly waits).
 */
public final class DaemonCommand {
    /** Where the daemon's directory appears inside the sandbox. */
    public static final Path IN_SANDBOX = Path.of("/opt/nomad-shell/daemon");

    private DaemonCommand() {}

    /** Sets the command and binds of {@code options} to run the daemon at {@code daemonJar}. */
    public static LocalLauncherOptions.Builder configure(LocalLauncherOptions.Builder options, Path daemonJar) {
        requireNonNull(options, "options");
        var jar = requireNonNull(daemonJar, "daemonJar").toAbsolutePath();
        var javaHome = Path.of(System.getProperty("java.home"));
        return options
                // No attach listener (jcmd, agents) and no perf-data file: a tool running as the
                // daemon's uid could otherwise dump its heap, credentials and all.
                .command(javaHome.resolve("bin/java").toString(), "-Xmx128m", "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1", "-XX:+DisableAttachMechanism", "-XX:-UsePerfData",
                        "-jar", IN_SANDBOX.resolve(jar.getFileName()).toString())
                .readOnlyBind(javaHome)
                .readOnlyBind(jar.getParent(), IN_SANDBOX);
    }
}
