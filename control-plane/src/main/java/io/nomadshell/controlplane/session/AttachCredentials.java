package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.store.AttachLedger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * The credentials a daemon attaches with, carried in the call's {@code authorization} header: its
 * launch credential ({@code Bearer <token>}), good for one Attach, then the resume secret the Welcome
 * handed it ({@code Resume <job id>.<secret>}), good for the next Attach only. Redis keeps which
 * launch credentials are spent and the hash of each job's current resume secret, so any replica can
 * check either.
 */
public final class AttachCredentials {
    /** Where the daemon's credential travels. */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final String LAUNCH_SCHEME = "Bearer ";
    public static final String RESUME_SCHEME = "Resume ";

    /** The checked credential of the Attach call being served; set by {@link AttachAuthInterceptor}. */
    static final Context.Key<Presented> PRESENTED = Context.key("nomad-shell-attach-credential");

    private static final SecureRandom RANDOM = new SecureRandom();

    private final JobTokens tokens;
    private final AttachLedger ledger;

    public AttachCredentials(JobTokens tokens, AttachLedger ledger) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.ledger = requireNonNull(ledger, "ledger");
    }

    /**
     * Checks a presented credential without using it up.
     *
     * @throws StatusException UNAUTHENTICATED, with a plain message, when it lets no one in
     */
    Presented check(@Nullable String authorization) throws StatusException {
        if (authorization == null || authorization.isBlank()) {
            throw refused("no Attach credential: the daemon presents its launch credential or resume secret "
                    + "in the authorization header");
        }
        if (authorization.startsWith(LAUNCH_SCHEME)) {
            JobTokens.Launch launch;
            try {
                launch = tokens.verify(authorization.substring(LAUNCH_SCHEME.length()).strip());
            } catch (JobTokens.InvalidTokenException e) {
                throw refused(e.getMessage());
            }
            if (ledger.isSpent(launch.jobId(), launch.nonce())) {
                throw refused(ALREADY_USED);
            }
            return new Presented.Launch(launch);
        }
        if (authorization.startsWith(RESUME_SCHEME)) {
            var value = authorization.substring(RESUME_SCHEME.length()).strip();
            int dot = value.indexOf('.');
            if (dot <= 0 || dot == value.length() - 1) {
                throw refused("the resume credential is malformed");
            }
            var jobId = value.substring(0, dot);
            if (!JobIds.isWellFormed(jobId) && !MemberIds.isWellFormed(jobId)) {
                throw refused("the resume credential names no job");
            }
            var resume = new Presented.Resume(jobId, hash(value.substring(dot + 1)));
            if (!ledger.resumeMatches(resume.jobId(), resume.secretHash())) {
                throw refused(STALE_RESUME);
            }
            return resume;
        }
        throw refused("the Attach credential is neither a launch credential (Bearer) nor a resume secret (Resume)");
    }

    /**
     * Uses the credential up and returns the job's new resume secret, whose hash replaces any earlier one.
     *
     * @throws StatusException UNAUTHENTICATED when another Attach used it first
     */
    String admit(Presented presented) throws StatusException {
        var secret = newSecret();
        var newHash = hash(secret);
        switch (presented) {
            case Presented.Launch launch -> {
                var credential = launch.launch();
                if (!ledger.spendLaunch(credential.jobId(), credential.nonce(), credential.expiry())) {
                    throw refused(ALREADY_USED);
                }
                ledger.startResume(credential.jobId(), newHash, credential.expiry());
            }
            case Presented.Resume resume -> {
                if (!ledger.rotateResume(resume.jobId(), resume.secretHash(), newHash)) {
                    throw refused(STALE_RESUME);
                }
            }
        }
        return secret;
    }

    /**
     * The first resume secret of a job whose sandbox comes from the warm pool: it, and only it, lets
     * the claimed daemon redial as the job's; the member's launch credential is spent already.
     */
    String startClaimed(String jobId, Instant expiry) {
        var secret = newSecret();
        ledger.startResume(requireNonNull(jobId, "jobId"), hash(secret), requireNonNull(expiry, "expiry"));
        return secret;
    }

    private static final String ALREADY_USED = "this launch credential was already used";
    private static final String STALE_RESUME =
            "the resume secret is not valid (a newer one replaced it, or the job has ended)";

    private static StatusException refused(String why) {
        return Status.UNAUTHENTICATED.withDescription(why).asException();
    }

    private static String newSecret() {
        var bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String hash(String secret) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    /** A credential that passed {@link #check}, not yet used up. */
    sealed interface Presented {
        String jobId();

        record Launch(JobTokens.Launch launch) implements Presented {
            @Override
            public String jobId() {
                return launch.jobId();
            }
        }

        record Resume(String jobId, String secretHash) implements Presented {}
    }

}
