package io.nomadshell.daemon;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.egress.EgressProxy;
import io.nomadshell.daemon.link.AttachClient;
import io.nomadshell.daemon.link.AttachCredential;
import io.nomadshell.daemon.link.LinkOutcome;
import io.nomadshell.daemon.tool.SandboxPorts;
import io.nomadshell.daemon.tool.ToolDispatcher;
import io.nomadshell.daemon.tool.ToolOptions;
import io.nomadshell.daemon.workspace.Workspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's entry point: reads {@link DaemonConfig} from the environment, runs the link to the
 * control plane, and exits with a code that says how it ended:
 *
 * <ul>
 *   <li>{@value #EXIT_SHUTDOWN}: the control plane sent Shutdown;
 *   <li>{@value #EXIT_FAILED}: the daemon itself failed (interrupted);
 *   <li>{@value #EXIT_BAD_CONFIG}: missing or invalid configuration;
 *   <li>{@value #EXIT_REJECTED}: the control plane refused the credential;
 *   <li>{@value #EXIT_UNREACHABLE}: no control plane welcomed the daemon for 60 s.
 * </ul>
 */
public final class AgentDaemon {

    public static final int EXIT_SHUTDOWN = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_BAD_CONFIG = 2;
    public static final int EXIT_REJECTED = 3;
    public static final int EXIT_UNREACHABLE = 4;

    private static final Logger log = LoggerFactory.getLogger(AgentDaemon.class);

    private AgentDaemon() {}

    public static void main(String[] args) {
        if (args.length > 0) {
            System.err.println("agent-daemon: takes no arguments; configure it with "
                    + DaemonConfig.ATTACH_ENV + " and " + DaemonConfig.WORKSPACE_ENV
                    + ", and give it its launch credential on standard input or in " + DaemonConfig.TOKEN_FILE_ENV);
            System.exit(EXIT_BAD_CONFIG);
        }
        RuntimeSizing.apply();
        // First, before any credential is in memory: the tools run as this user and must not read it.
        NonDumpable.apply();
        DaemonConfig config;
        try {
            config = DaemonConfig.fromEnv(System.getenv(), System.in);
        } catch (IllegalArgumentException e) {
            System.err.println("agent-daemon: " + e.getMessage());
            System.exit(EXIT_BAD_CONFIG);
            return;
        }
        System.exit(run(config));
    }

    /** Runs the daemon with {@code config} until the link ends; returns the exit code. */
    public static int run(DaemonConfig config) {
        requireNonNull(config, "config");
        Workspace workspace;
        try {
            workspace = Workspace.open(config.workspace());
        } catch (IOException e) {
            System.err.println("agent-daemon: workspace " + config.workspace() + " " + whyUnusable(e));
            return EXIT_BAD_CONFIG;
        }
        Path scratch;
        try {
            // Services' runtime files (Jupyter, the desktop) stay out of the delivered workspace.
            scratch = Files.createTempDirectory("nomad-shell-daemon-");
        } catch (IOException e) {
            System.err.println("agent-daemon: cannot create a scratch directory: " + e.getMessage());
            return EXIT_BAD_CONFIG;
        }
        // Screenshots are scaled with java.awt images; there is no display for the daemon itself.
        System.setProperty("java.awt.headless", "true");
        log.info("agent-daemon {} dialing {} for workspace {}", version(), config.attachTarget(), workspace.root());
        AttachClient client = new AttachClient(config.attachTargets(), config.attachCa(),
                AttachCredential.launch(config.token()), version(),
                new ToolDispatcher(workspace, ToolOptions.inSandbox(scratch)), config.link());
        // Always up, so a tool's request out gets an answer: the connection, or why not.
        EgressProxy proxy = startEgressProxy(client);
        try {
            return switch (client.run()) {
                case LinkOutcome.ShutdownRequested shutdown -> {
                    log.info("shutting down: {}", shutdown.reason().isEmpty() ? "asked to" : shutdown.reason());
                    yield EXIT_SHUTDOWN;
                }
                case LinkOutcome.Rejected rejected -> {
                    log.error("the control plane refused this daemon's credential ({}); not retrying", rejected.reason());
                    yield EXIT_REJECTED;
                }
                case LinkOutcome.GaveUp gaveUp -> {
                    log.error("no control plane at {} welcomed this daemon for {} s (last error: {}); giving up",
                            config.attachTarget(), gaveUp.after().toSeconds(), gaveUp.lastError());
                    yield EXIT_UNREACHABLE;
                }
            };
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.error("interrupted; stopping");
            return EXIT_FAILED;
        } finally {
            closeQuietly(proxy);
        }
    }

    private static @Nullable EgressProxy startEgressProxy(AttachClient client) {
        try {
            return EgressProxy.start(SandboxPorts.EGRESS_PROXY, client.tunnels()::connect);
        } catch (IOException e) {
            // Outside a sandbox (a daemon run by hand) the port may be taken; tools then have no way out.
            log.warn("the egress proxy cannot listen on 127.0.0.1:{}: {}", SandboxPorts.EGRESS_PROXY, e.getMessage());
            return null;
        }
    }

    private static void closeQuietly(@Nullable EgressProxy proxy) {
        if (proxy != null) {
            try {
                proxy.close();
            } catch (IOException e) {
                log.debug("closing the egress proxy: {}", e.toString());
            }
        }
    }

    /** The version from the jar's manifest, or {@code dev} when run from classes. */
    static String version() {
        String version = AgentDaemon.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    private static String whyUnusable(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "does not exist";
            case NotDirectoryException x -> "is not a directory";
            default -> "cannot be used: " + e;
        };
    }
}
