package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.crypto.HmacKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;

/**
 * Job-scoped launch credentials: {@code v2.<job id>.<expiry epoch seconds>.<nonce>.<HMAC-SHA256>}.
 * One lets a daemon attach to its own job, once (the {@link AttachCredentials} spend its nonce), before
 * it expires, and to nothing else.
 */
public final class JobTokens {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final HmacKey key;
    private final Clock clock;

    public JobTokens(byte[] secret, Clock clock) {
        this.key = new HmacKey(secret, 32, "the token secret");
        this.clock = requireNonNull(clock, "clock");
    }

    public String issue(String jobId, Instant expiry) {
        var nonce = new byte[16];
        RANDOM.nextBytes(nonce);
        var payload = "v2." + requireNonNull(jobId, "jobId") + "." + expiry.getEpochSecond() + "."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(nonce);
        return payload + "." + key.sign(payload);
    }

    /** Checks the signature and expiry; says which job and nonce the token is for. */
    public Launch verify(String token) throws InvalidTokenException {
        requireNonNull(token, "token");
        int lastDot = token.lastIndexOf('.');
        var parts = token.split("\\.", -1);
        if (parts.length != 5 || !parts[0].equals("v2") || lastDot < 0) {
            throw new InvalidTokenException("the token is malformed");
        }
        var payload = token.substring(0, lastDot);
        if (!key.signs(payload, parts[4])) {
            throw new InvalidTokenException("the token's signature is not valid");
        }
        long expiry;
        try {
            expiry = Long.parseLong(parts[2]);
        } catch (NumberFormatException e) {
            throw new InvalidTokenException("the token is malformed");
        }
        if (clock.instant().getEpochSecond() >= expiry) {
            throw new InvalidTokenException("the token has expired");
        }
        return new Launch(parts[1], parts[3], Instant.ofEpochSecond(expiry));
    }

    /** A verified launch credential: its job, its single-use nonce, and when it expires. */
    public record Launch(String jobId, String nonce, Instant expiry) {}

    /** A token that does not let its holder attach; the message says why. */
    public static final class InvalidTokenException extends Exception {
        public InvalidTokenException(String message) {
            super(message, null, false, false);
        }
    }
}
