package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

/**
 * Where a job's Jupyter Server is reached from outside: {@code /v1/jobs/<job id>/jupyter/}. The
 * gateway routes that path to the sandbox unchanged, so the server must run with it as its
 * base_url; launchers pass it to the sandbox in {@link #ENV}.
 */
public final class JupyterPath {
    /** The environment variable that gives the sandbox's daemon Jupyter's base_url. */
    public static final String ENV = "NOMAD_SHELL_JUPYTER_BASE_URL";

    private JupyterPath() {}

    /** The base URL of job {@code jobId}'s Jupyter Server, with its trailing slash. */
    public static String of(String jobId) {
        return "/v1/jobs/" + requireNonNull(jobId, "jobId") + "/jupyter/";
    }
}
