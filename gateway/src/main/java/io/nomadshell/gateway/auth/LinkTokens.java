package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.crypto.HmacKey;
import java.time.Clock;
import java.time.Instant;

/**
 * Short-lived signed links that open one port of one job's sandbox on its preview origin, for
 * browsers, which cannot send an API key with a page, an iframe or a WebSocket:
 * {@code l2.<job id>.<port>.<owner>.<expiry epoch seconds>.<HMAC-SHA256>}. A link opens exactly that
 * job and port for its owner until it expires. The key is the deployment's (one of the control plane's
 * shared secrets, kept in Redis), so a link made by one replica opens on every replica and still opens
 * after a restart; daemon tokens are signed with another key and are never links.
 */
public final class LinkTokens {
    private static final String VERSION = "l2";

    private final HmacKey key;
    private final Clock clock;

    /** Links signed with {@code key} (at least 32 bytes), expiring by {@code clock}. */
    public LinkTokens(byte[] key, Clock clock) {
        this.key = new HmacKey(key, 32, "a link key");
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
        return payload + "." + key.sign(payload);
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
        if (!key.signs(payload, parts[5])) {
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

    /** What a link is worth. */
    public sealed interface Verdict {
        record Allowed(String owner) implements Verdict {}

        record Refused(String reason) implements Verdict {}
    }
}
