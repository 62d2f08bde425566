package io.nomadshell.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Requests to a replica's peer listener, as the tests write them by hand. */
final class PeerRequests {
    private PeerRequests() {}

    /** A tunnel request as a replica signs it (the wire format of the control plane's PeerSigner). */
    static String signed(byte[] key, String jobId, int port, String to, long issuedAt, String nonce)
            throws GeneralSecurityException {
        var payload = String.join(" ", "np1", "tunnel", jobId, Integer.toString(port),
                Base64.getUrlEncoder().withoutPadding().encodeToString(to.getBytes(StandardCharsets.UTF_8)),
                Long.toString(issuedAt), nonce);
        var mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return payload + " " + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(mac.doFinal(payload.getBytes(StandardCharsets.UTF_8)));
    }

    /** One line of the listener's answer, without its end. */
    static String readLine(InputStream in) throws IOException {
        var line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
