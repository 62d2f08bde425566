package io.nomadshell.controlplane.crypto;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An HMAC-SHA256 key: how every token and signature of the server is made (launch credentials, links,
 * Jupyter tokens, requests between replicas, webhook deliveries), so each says only what it signs.
 */
public final class HmacKey {
    private static final String ALGORITHM = "HmacSHA256";
    private final SecretKeySpec key;

    /**
     * A key of {@code secret} (copied).
     *
     * @throws IllegalArgumentException naming {@code what} when the secret is shorter than {@code minimumBytes}
     */
    public HmacKey(byte[] secret, int minimumBytes, String what) {
        if (requireNonNull(secret, "secret").length < minimumBytes) {
            throw new IllegalArgumentException(what + " must be at least " + minimumBytes + " bytes");
        }
        this.key = new SecretKeySpec(secret.clone(), ALGORITHM);
    }

    /** The MAC of {@code parts} one after the other. */
    public byte[] mac(byte[]... parts) {
        try {
            var mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            for (var part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is unavailable", e);
        }
    }

    /** The MAC of {@code payload}'s UTF-8, as 43 URL-safe characters (base64url without padding). */
    public String sign(String payload) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(mac(payload.getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether {@code signature} is {@link #sign}{@code (payload)}, compared in constant time. */
    public boolean signs(String payload, String signature) {
        return MessageDigest.isEqual(sign(payload).getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII));
    }
}
