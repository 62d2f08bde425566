package io.nomadshell.gateway.auth;

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
 * Short-lived signed links that open one port of one job's sandbox on its preview origin, for
 * browsers, which cannot send an API key with a page, an iframe or a WebSocket:
 * {@code l2.<job id>.<port>.<owner>.<expiry epoch seconds>.<HMAC-SHA256>}. A link opens exactly that
 * job and port for its owner until it expires. The key is the deployment's (one of the control plane's
 * shared secrets, kept in Redis), so a link made by one replica opens on every replica and still opens
 * after a restart; daemon tokens are signed with another key and are never links.
 */
public final class LinkTokens {
    private static final String ALGORITHM = "HmacSHA256";
    private static final String VERSION = "l2";

    private final SecretKeySpec key;
    private final Clock clock;

    /** Links signed with {@code key} (at least 32 bytes), expiring by {@code clock}. */
    public LinkTokens(byte[] key, Clock clock) {
        if (requireNonNull(key, "key").length < 32) {
            throw new IllegalArgumentException("a link key must be at least 32 bytes");
        }
        this.key = new SecretKeySpec(key, ALGORITHM);
        this.clock = requireNonNull(clock, "clock");
    }

    public String issue(String jobId, int port, String owner, Instant expiry) {
        requireNonNull(jobId, "jobId");
        requireNonNull(owner, "owner");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the port must be between 1 and 65535, not " + port);
        }
        if (jobId.contains(".") || owner.contains(".")) {
            throw new IllegalArgumentException("job ids and owners in links have no dots");
        }
        var payload = VERSION + "." + jobId + "." + port + "." + owner + "." + expiry.getEpochSecond();
        return payload + "." + sign(payload);
    }

    /** Checks a link for {@code port} of {@code jobId}; returns its owner, or why it does not let its holder in. */
    public Verdict verify(String token, String jobId, int port) {
        requireNonNull(token, "token");
        requireNonNull(jobId, "jobId");
        var parts = token.split("\\.", -1);
        if (parts.length != 6 || !parts[0].equals(VERSION)) {
            return new Verdict.Refused("the link is malformed");
        }
        var payload = token.substring(0, token.lastIndexOf('.'));
        if (!MessageDigest.isEqual(sign(payload).getBytes(StandardCharsets.US_ASCII),
                parts[5].getBytes(StandardCharsets.US_ASCII))) {
            return new Verdict.Refused("the link's signature is not valid");
        }
        if (!parts[1].equals(jobId) || !parts[2].equals(Integer.toString(port))) {
            return new Verdict.Refused("the link is for another job or port");
        }
        long expiry;
        try {
            expiry = Long.parseLong(parts[4]);
        } catch (NumberFormatException e) {
            return new Verdict.Refused("the link is malformed");
        }
        if (clock.instant().getEpochSecond() >= expiry) {
            return new Verdict.Refused("the link has expired; ask for a new one");
        }
        return new Verdict.Allowed(parts[3]);
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
