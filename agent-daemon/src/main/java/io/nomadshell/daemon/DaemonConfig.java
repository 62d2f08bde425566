package io.nomadshell.daemon;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.link.LinkOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the daemon needs to run. Read from the environment by {@link #fromEnv(Map)}; the token is
 * only ever taken from there (never from the command line, where other users could see it) and
 * never printed, {@link #toString()} included.
 *
 * @param attachTarget the control plane's Attach address: {@code unix:///path/to.sock} or
 *     {@code host:port}
 * @param token the job-scoped token presented in the Hello
 * @param workspace the directory the tools work in
 * @param link the timing of the link to the control plane
 */
public record DaemonConfig(String attachTarget, String token, Path workspace, LinkOptions link) {

    /** The control plane's Attach address; required. */
    public static final String ATTACH_ENV = "NOMAD_SHELL_ATTACH";
    /** The job-scoped token; required unless {@link #TOKEN_FILE_ENV} names a file holding it. */
    public static final String TOKEN_ENV = "NOMAD_SHELL_TOKEN";
    /** A file holding the token (a Nomad dispatch payload), read when {@link #TOKEN_ENV} is unset. */
    public static final String TOKEN_FILE_ENV = "NOMAD_SHELL_TOKEN_FILE";
    /** The workspace directory; {@value #DEFAULT_WORKSPACE} when unset. */
    public static final String WORKSPACE_ENV = "NOMAD_SHELL_WORKSPACE";
    public static final String DEFAULT_WORKSPACE = "/workspace";

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
            throw new IllegalArgumentException(TOKEN_ENV + " is not set; the daemon needs its job token");
        }
    }

    /**
     * Reads the configuration from {@code env} (normally {@link System#getenv()}).
     *
     * @throws IllegalArgumentException with a message for the operator when a value is missing
     *     or unusable
     */
    public static DaemonConfig fromEnv(Map<String, String> env) {
        requireNonNull(env, "env");
        String workspace = env.getOrDefault(WORKSPACE_ENV, "");
        Path workspacePath;
        try {
            workspacePath = Path.of(workspace.isBlank() ? DEFAULT_WORKSPACE : workspace);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(WORKSPACE_ENV + " is not a valid path: '" + workspace + "'");
        }
        return new DaemonConfig(env.getOrDefault(ATTACH_ENV, "").strip(), token(env), workspacePath,
                LinkOptions.DEFAULTS);
    }

    private static String token(Map<String, String> env) {
        String token = env.getOrDefault(TOKEN_ENV, "");
        String file = env.getOrDefault(TOKEN_FILE_ENV, "");
        if (!token.isBlank() || file.isBlank()) {
            return token;
        }
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException | InvalidPathException e) {
            throw new IllegalArgumentException(TOKEN_FILE_ENV + " names no readable file: '" + file + "'");
        }
    }

    @Override
    public String toString() {
        return "DaemonConfig[attachTarget=" + attachTarget + ", token=(redacted), workspace=" + workspace
                + ", link=" + link + "]";
    }

    private static void checkTarget(String target) {
        if (target.isBlank()) {
            throw new IllegalArgumentException(ATTACH_ENV
                    + " is not set; give the control plane's address as unix:///path/to/attach.sock or host:port");
        }
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
