package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.tunnel.JupyterTokens;
import io.nomadshell.proto.v1.Claim;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Gives an attached warm-pool daemon its job, in one round trip on its Attach stream: a Claim with the
 * job's id, a first resume secret and its Jupyter token; the daemon answers Claimed once it redials as
 * the job's. Its stream is then the job's session in the {@link SessionRegistry}.
 */
public final class PoolClaims {
    private final AttachCredentials credentials;
    private final SessionRegistry sessions;
    private final JupyterTokens jupyterTokens;

    public PoolClaims(AttachCredentials credentials, SessionRegistry sessions, JupyterTokens jupyterTokens) {
        this.credentials = requireNonNull(credentials, "credentials");
        this.sessions = requireNonNull(sessions, "sessions");
        this.jupyterTokens = requireNonNull(jupyterTokens, "jupyterTokens");
    }

    /**
     * Makes the daemon of pool member {@code memberId} the daemon of {@code jobId}, which the registry
     * must expect; its resume secret is good until {@code expiry}.
     *
     * @throws SandboxLostException when the member is not attached or did not answer within {@code timeout}
     */
    public void claim(String memberId, String jobId, Instant expiry, Duration timeout)
            throws SandboxLostException, InterruptedException {
        var secret = credentials.startClaimed(jobId, expiry);
        var session = sessions.handOver(memberId, jobId);
        try {
            session.claim(Claim.newBuilder()
                            .setJobId(jobId)
                            .setResumeSecret(secret)
                            .setJupyterToken(jupyterTokens.of(jobId))
                            .build())
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof SandboxLostException lost ? lost
                    : new SandboxLostException("the claim failed: " + e.getCause());
        } catch (TimeoutException e) {
            throw new SandboxLostException("the warm-pool sandbox did not answer its claim within " + timeout.toMillis()
                    + " ms");
        }
        sessions.claimed(session);
    }
}
