package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived signed links for browsers, which cannot send an API key with a page, an iframe or a
 * WebSocket: {@code l1.<job id>.<owner>.<expiry epoch seconds>.<HMAC-SHA256>}. A link opens one job's
 * pages for its owner until it expires. The key is made at start-up and never leaves the process, so
 * links end with the server; daemon tokens are signed with another key and are never links.
 */
public final class LinkTokens {
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;
    private final Clock clock;

    public LinkTokens(Clock clock) {
        var secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, ALGORITHM);
        this.clock = requireNonNull(clock, "clock");
    }

    public String issue(String jobId, String owner, Instant expiry) {
        var payload = "l1." + requireNonNull(jobId, "jobId") + "." + requireNonNull(owner, "owner") + "."
                + expiry.getEpochSecond();
        return payload + "." + sign(payload);
    }

    /** Checks a link for {@code jobId}; returns its owner, or why it does not let its holder in. */
    public Verdict verify(String token, String jobId) {
        requireNonNull(token, "token");
        var parts = token.split("\\.", -1);
        if (parts.length != 5 || !parts[0].equals("l1")) {
            return new Verdict.Refused("the link is malformed");
        }
        var payload = token.substring(0, token.lastIndexOf('.'));
        if (!MessageDigest.isEqual(sign(payload).getBytes(StandardCharsets.US_ASCII),
                parts[4].getBytes(StandardCharsets.US_ASCII))) {
            return new Verdict.Refused("the link's signature is not valid");
        }
        if (!parts[1].equals(jobId)) {
            return new Verdict.Refused("the link is for another job");
        }
        long expiry;
        try {
            expiry = Long.parseLong(parts[3]);
        } catch (NumberFormatException e) {
            return new Verdict.Refused("the link is malformed");
        }
        if (clock.instant().getEpochSecond() >= expiry) {
            return new Verdict.Refused("the link has expired; ask for a new one");
        }
        return new Verdict.Allowed(parts[2]);
    }

    private String sign(String payload) {
        try {
            var mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(mac.doFinal(payload.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
        }
    }

    /** What a link is worth. */
    public sealed interface Verdict {
        record Allowed(String owner) implements Verdict {}

        record Refused(String reason) implements Verdict {}
    }
}
