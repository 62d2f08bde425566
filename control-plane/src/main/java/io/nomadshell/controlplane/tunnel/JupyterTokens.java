package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.crypto.HmacKey;

/**
 * The token each job's Jupyter Server demands: HMAC-SHA256 of the job id under the control plane's
 * secret, so every replica sharing that secret derives the same token for a job (a daemon that
 * reconnects elsewhere keeps its running server) and nobody without it can guess one. The control
 * plane hands it to the daemon in the Welcome; the preview proxy adds it to what it forwards to
 * Jupyter. It never enters the sandbox's environment, argv or a browser.
 */
public final class JupyterTokens {
    private final HmacKey key;

    public JupyterTokens(byte[] secret) {
        this.key = new HmacKey(secret, 32, "the secret");
    }

    /** Job {@code jobId}'s token: 43 URL-safe characters. */
    public String of(String jobId) {
        // The label keeps these apart from anything else signed with the same secret.
        return key.sign("jupyter-token." + requireNonNull(jobId, "jobId"));
    }
}
