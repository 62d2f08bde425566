package io.nomadshell.daemon;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.link.LinkOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the daemon needs to run. Read by {@link #fromEnv}: the launch credential never comes from the
 * environment or the command line (every process of the sandbox could read those), but from one
 * line on standard input (the local launcher's pipe) or from a file the daemon deletes once read
 * (in a Nomad sandbox, rendered into the task's secrets directory). It is never printed, {@link #toString()} included.
 *
 * @param attachTarget the control plane's Attach address: {@code unix:///path/to.sock} or
 *     {@code host:port} (then TLS); or several, comma-separated, one per control-plane replica, which
 *     the daemon tries in turn (its job may be taken over by any of them)
 * @param token the job's single-use launch credential
 * @param workspace the directory the tools work in
 * @param link the timing of the link to the control plane
 * @param attachCa the CA certificate (PEM) that signed the Attach server's certificate over TCP;
 *     null to trust the system's authorities
 */
public record DaemonConfig(String attachTarget, String token, Path workspace, LinkOptions link,
                           @Nullable Path attachCa) {

    /** The control plane's Attach address (or the replicas' addresses, comma-separated); required. */
    public static final String ATTACH_ENV = "NOMAD_SHELL_ATTACH";
    /** The CA certificate file to trust for Attach over TCP (a public certificate). */
    public static final String ATTACH_CA_ENV = "NOMAD_SHELL_ATTACH_CA";
    /** A file holding the launch credential (a Nomad task's rendered secret); without it, standard input gives it. */
    public static final String TOKEN_FILE_ENV = "NOMAD_SHELL_TOKEN_FILE";
    /** The workspace directory; {@value #DEFAULT_WORKSPACE} when unset. */
    public static final String WORKSPACE_ENV = "NOMAD_SHELL_WORKSPACE";
    public static final String DEFAULT_WORKSPACE = "/workspace";

    /** A launch credential is far shorter; a longer line is not one. */
    private static final int MAX_TOKEN_BYTES = 4096;

    /**
     * Checks every field.
     *
     * @throws IllegalArgumentException with a message for the operator when a value is unusable
     */
    public DaemonConfig {
        requireNonNull(attachTarget, "attachTarget");
        requireNonNull(token, "token");
        requireNonNull(workspace, "workspace");
        requireNonNull(link, "link");
        checkTarget(attachTarget);
        if (token.isBlank()) {
            throw new IllegalArgumentException("no launch credential: the daemon reads it as one line on standard "
                    + "input, or from the file " + TOKEN_FILE_ENV + " names");
        }
    }

    /**
     * Reads the configuration from {@code env} (normally {@link System#getenv()}) and the launch
     * credential from the file {@link #TOKEN_FILE_ENV} names (deleted once read) or else from the first
     * line of {@code stdin}, which is closed after.
     *
     * @throws IllegalArgumentException with a message for the operator when a value is missing
     *     or unusable
     */
    public static DaemonConfig fromEnv(Map<String, String> env, InputStream stdin) {
        requireNonNull(env, "env");
        requireNonNull(stdin, "stdin");
        String workspace = env.getOrDefault(WORKSPACE_ENV, "");
        Path workspacePath;
        try {
            workspacePath = Path.of(workspace.isBlank() ? DEFAULT_WORKSPACE : workspace);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(WORKSPACE_ENV + " is not a valid path: '" + workspace + "'");
        }
        String ca = env.getOrDefault(ATTACH_CA_ENV, "").strip();
        Path caPath;
        try {
            caPath = ca.isEmpty() ? null : Path.of(ca);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(ATTACH_CA_ENV + " is not a valid path: '" + ca + "'");
        }
        if (caPath != null && !Files.isReadable(caPath)) {
            throw new IllegalArgumentException(ATTACH_CA_ENV + " names no readable file: '" + ca + "'");
        }
        String target = env.getOrDefault(ATTACH_ENV, "").strip();
        checkTarget(target);
        return new DaemonConfig(target, token(env, stdin), workspacePath,
                LinkOptions.DEFAULTS, caPath);
    }

    private static String token(Map<String, String> env, InputStream stdin) {
        String file = env.getOrDefault(TOKEN_FILE_ENV, "").strip();
        if (file.isEmpty()) {
            return firstLine(stdin);
        }
        Path path;
        String token;
        try {
            path = Path.of(file);
            token = Files.readString(path).strip();
        } catch (IOException | InvalidPathException e) {
            throw new IllegalArgumentException(TOKEN_FILE_ENV + " names no readable file: '" + file + "'");
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // Spent by the first Attach anyway: a later read of it gets nothing that works.
        }
        return token;
    }

    private static String firstLine(InputStream stdin) {
        var line = new ByteArrayOutputStream();
        try (stdin) {
            for (int b = stdin.read(); b != -1 && b != '\n'; b = stdin.read()) {
                if (line.size() == MAX_TOKEN_BYTES) {
                    throw new IllegalArgumentException("the launch credential on standard input is too long");
                }
                line.write(b);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("the launch credential could not be read from standard input: "
                    + e.getMessage());
        }
        return line.toString(StandardCharsets.US_ASCII).strip();
    }

    /** The Attach addresses, in the order to try them. */
    public List<String> attachTargets() {
        return targets(attachTarget);
    }

    private static List<String> targets(String attachTarget) {
        return Arrays.stream(attachTarget.split(",")).map(String::strip).filter(target -> !target.isEmpty()).toList();
    }

    @Override
    public String toString() {
        return "DaemonConfig[attachTarget=" + attachTarget + ", token=(redacted), workspace=" + workspace
                + ", link=" + link + ", attachCa=" + attachCa + "]";
    }

    private static void checkTarget(String targets) {
        if (targets(targets).isEmpty()) {
            throw new IllegalArgumentException(ATTACH_ENV
                    + " is not set; give the control plane's address as unix:///path/to/attach.sock or host:port");
        }
        targets(targets).forEach(DaemonConfig::checkOneTarget);
    }

    private static void checkOneTarget(String target) {
        boolean valid;
        if (target.startsWith("unix:")) {
            valid = target.replaceFirst("^unix:(//)?", "").length() > 0;
        } else if (target.contains("://")) {
            valid = true; // Another gRPC name scheme (dns:///host:port, ...): gRPC judges it.
        } else {
            valid = isHostPort(target);
        }
        if (!valid) {
            throw new IllegalArgumentException(ATTACH_ENV
                    + " must be unix:///path/to/attach.sock or host:port, not '" + target + "'");
        }
    }

    private static boolean isHostPort(String target) {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1) {
            return false;
        }
        try {
            int port = Integer.parseInt(target.substring(colon + 1));
            return port > 0 && port < 65536;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
