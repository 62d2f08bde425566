package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Job-scoped Attach tokens: {@code v1.<job id>.<expiry epoch seconds>.<HMAC-SHA256>}. A token lets
 * a daemon attach to its own job until it expires, and to nothing else.
 */
public final class JobTokens {
    private static final String ALGORITHM = "HmacSHA256";
    private final SecretKeySpec key;
    private final Clock clock;

    public JobTokens(byte[] secret, Clock clock) {
        requireNonNull(secret, "secret");
        if (secret.length < 32) {
            throw new IllegalArgumentException("the token secret must be at least 32 bytes");
        }
        this.key = new SecretKeySpec(secret.clone(), ALGORITHM);
        this.clock = requireNonNull(clock, "clock");
    }

    public String issue(String jobId, Instant expiry) {
        var payload = "v1." + requireNonNull(jobId, "jobId") + "." + expiry.getEpochSecond();
        return payload + "." + sign(payload);
    }

    /** Returns the job the token is for. */
    public String verify(String token) throws InvalidTokenException {
        requireNonNull(token, "token");
        int lastDot = token.lastIndexOf('.');
        var parts = token.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("v1") || lastDot < 0) {
            throw new InvalidTokenException("the token is malformed");
        }
        var payload = token.substring(0, lastDot);
        var expected = sign(payload).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, parts[3].getBytes(StandardCharsets.US_ASCII))) {
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
        return parts[1];
    }

    private String sign(String payload) {
        try {
            var mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            var signature = mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
        }
    }

    /** A token that does not let its holder attach; the message says why. */
    public static final class InvalidTokenException extends Exception {
        public InvalidTokenException(String message) {
            super(message, null, false, false);
        }
    }
}
