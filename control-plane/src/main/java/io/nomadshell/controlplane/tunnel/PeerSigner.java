package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.crypto.HmacKey;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;

/**
 * Writes and checks the one line a replica-to-replica connection opens with:
 * {@code np1 <op> <job id> <argument> <to, base64url> <issued ms> <nonce> <HMAC-SHA256>}, signed with
 * the deployment's peer key (shared through Redis, never a user's key). A line is taken only when its
 * signature holds, it is meant for this replica and it is fresh; the caller spends its nonce.
 */
final class PeerSigner {
    /** How far a request's time may be from the receiver's clock; its nonce is kept longer than this. */
    static final Duration FRESH = Duration.ofSeconds(30);
    private static final String VERSION = "np1";

    private final HmacKey key;
    private final Clock clock;

    PeerSigner(byte[] key, Clock clock) {
        this.key = new HmacKey(key, 32, "a peer key");
        this.clock = requireNonNull(clock, "clock");
    }

    String sign(PeerRequest request) {
        var payload = String.join(" ", VERSION, request.op(), request.jobId(), request.argument(),
                Base64.getUrlEncoder().withoutPadding().encodeToString(request.to().getBytes(StandardCharsets.UTF_8)),
                Long.toString(request.issuedAtMillis()), request.nonce());
        return payload + " " + key.sign(payload);
    }

    /**
     * The request {@code line} carries, if it is signed with the peer key, meant for {@code me} and fresh.
     *
     * @throws PeerRefusedException saying why not
     */
    PeerRequest verify(String line, String me) throws PeerRefusedException {
        var parts = line.split(" ", -1);
        if (parts.length != 8 || !parts[0].equals(VERSION)) {
            throw new PeerRefusedException("the request is malformed");
        }
        var payload = line.substring(0, line.lastIndexOf(' '));
        if (!key.signs(payload, parts[7])) {
            throw new PeerRefusedException("the request's signature is not valid");
        }
        PeerRequest request;
        try {
            request = new PeerRequest(parts[1], parts[2], parts[3],
                    new String(Base64.getUrlDecoder().decode(parts[4]), StandardCharsets.UTF_8),
                    Long.parseLong(parts[5]), parts[6]);
        } catch (IllegalArgumentException e) {
            throw new PeerRefusedException("the request is malformed");
        }
        if (!request.to().equals(me)) {
            throw new PeerRefusedException("the request is meant for another replica");
        }
        if (Math.abs(clock.millis() - request.issuedAtMillis()) > FRESH.toMillis()) {
            throw new PeerRefusedException("the request is stale (or the replicas' clocks differ by more than "
                    + FRESH.toSeconds() + " s)");
        }
        return request;
    }
}
