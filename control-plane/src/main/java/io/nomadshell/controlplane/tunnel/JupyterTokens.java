package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The token each job's Jupyter Server demands: HMAC-SHA256 of the job id under the control plane's
 * secret, so every replica sharing that secret derives the same token for a job (a daemon that
 * reconnects elsewhere keeps its running server) and nobody without it can guess one. The control
 * plane hands it to the daemon in the Welcome; the preview proxy adds it to what it forwards to
 * Jupyter. It never enters the sandbox's environment, argv or a browser.
 */
public final class JupyterTokens {
    private static final String ALGORITHM = "HmacSHA256";
    private final SecretKeySpec key;

    public JupyterTokens(byte[] secret) {
        requireNonNull(secret, "secret");
        if (secret.length < 32) {
            throw new IllegalArgumentException("the secret must be at least 32 bytes");
        }
        this.key = new SecretKeySpec(secret.clone(), ALGORITHM);
    }

    /** Job {@code jobId}'s token: 43 URL-safe characters. */
    public String of(String jobId) {
        try {
            var mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            // The label keeps these apart from anything else signed with the same secret.
            var digest = mac.doFinal(("jupyter-token." + requireNonNull(jobId, "jobId")).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
        }
    }
}
