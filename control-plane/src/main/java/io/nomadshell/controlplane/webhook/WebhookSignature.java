package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.crypto.HmacKey;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The {@code Nomad-Shell-Signature} header: {@code t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">}
 * under the owner's webhook secret. The time is inside what is signed, so a receiver that refuses old
 * times cannot be fed a recorded delivery later. Hex, not the base64url of the server's own tokens, so
 * that {@code openssl dgst -hmac} and every language's stock HMAC give the same string.
 */
public final class WebhookSignature {
    public static final String HEADER = "Nomad-Shell-Signature";

    private WebhookSignature() {}

    /** The header's value for {@code body} sent at {@code epochSeconds}. */
    public static String header(byte[] secret, long epochSeconds, byte[] body) {
        return "t=" + epochSeconds + ",v1=" + hex(secret, epochSeconds, body);
    }

    /** The hex HMAC-SHA256 of {@code "<epochSeconds>.<body>"}. */
    static String hex(byte[] secret, long epochSeconds, byte[] body) {
        requireNonNull(body, "body");
        return HexFormat.of().formatHex(new HmacKey(secret, 1, "a webhook secret")
                .mac((epochSeconds + ".").getBytes(StandardCharsets.US_ASCII), body));
    }
}
