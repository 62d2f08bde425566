package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent daemon as a local sandbox's command: this JVM's runtime and the daemon's directory (its
 * jar, {@code lib/}, JVM options and AOT cache) bound read-only, started with the JVM options the
 * daemon's build wrote beside the jar ({@value #JVM_OPTIONS}: a small heap, the JIT's fast tier) and,
 * when the build made one, its AOT cache ({@value #AOT_CACHE}), which this JVM's build made: without
 * it the daemon starts all the same, slower and with more private memory.
 */
public final class DaemonCommand {
    /** Where the daemon's directory appears inside the sandbox. */
    public static final Path IN_SANDBOX = Path.of("/opt/nomad-shell/daemon");
    /** The java argument file beside the jar. */
    public static final String JVM_OPTIONS = "agent-daemon.jvm-options";
    /** The AOT cache beside the jar. */
    public static final String AOT_CACHE = "agent-daemon.aot";

    private DaemonCommand() {}

    /**
     * Sets the command and binds of {@code options} to run the daemon at {@code daemonJar}.
     *
     * @throws IllegalArgumentException when the daemon's JVM options are not beside the jar
     */
    public static LocalLauncherOptions.Builder configure(LocalLauncherOptions.Builder options, Path daemonJar) {
        requireNonNull(options, "options");
        var jar = requireNonNull(daemonJar, "daemonJar").toAbsolutePath();
        var dir = jar.getParent();
        if (!Files.isRegularFile(dir.resolve(JVM_OPTIONS))) {
            throw new IllegalArgumentException("the agent daemon's JVM options (" + JVM_OPTIONS + ") are not beside "
                    + jar + ": build agent-daemon again");
        }
        var javaHome = Path.of(System.getProperty("java.home"));
        List<String> command = new ArrayList<>(List.of(javaHome.resolve("bin/java").toString(),
                "@" + IN_SANDBOX.resolve(JVM_OPTIONS),
                // No attach listener (jcmd, agents) and no perf-data file: a tool running as the
                // daemon's uid could otherwise dump its heap, credentials and all.
                "-XX:+DisableAttachMechanism", "-XX:-UsePerfData"));
        if (Files.isRegularFile(dir.resolve(AOT_CACHE))) {
            command.add("-XX:AOTCache=" + IN_SANDBOX.resolve(AOT_CACHE));
        }
        command.addAll(List.of("-jar", IN_SANDBOX.resolve(jar.getFileName()).toString()));
        return options
                .command(command)
                .readOnlyBind(javaHome)
                .readOnlyBind(dir, IN_SANDBOX);
    }
}
