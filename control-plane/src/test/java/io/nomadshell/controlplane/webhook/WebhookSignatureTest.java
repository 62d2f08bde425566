package io.nomadshell.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {
    private static final byte[] SECRET = "whsec-test-secret-0123".getBytes(StandardCharsets.UTF_8);
    private static final byte[] BODY = "{\"job_id\":\"j1\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void isTheHexHmacOfTimeDotBodyAsOpensslComputesIt() {
        // printf '%s' '1700000000.{"job_id":"j1"}' | openssl dgst -sha256 -hmac 'whsec-test-secret-0123'
        assertThat(WebhookSignature.header(SECRET, 1_700_000_000L, BODY)).isEqualTo(
                "t=1700000000,v1=3bf558babab63290f5f512d15471388706ae0fe392991091e38477083f1d90bb");
    }

    @Test
    void changesWithTheTimeTheBodyAndTheSecret() {
        var signed = WebhookSignature.header(SECRET, 1_700_000_000L, BODY);
        assertThat(WebhookSignature.header(SECRET, 1_700_000_001L, BODY).substring(17)).isNotEqualTo(signed.substring(16));
        assertThat(WebhookSignature.header(SECRET, 1_700_000_000L, "{}".getBytes(StandardCharsets.UTF_8))).isNotEqualTo(signed);
        assertThat(WebhookSignature.header("another-secret-4567".getBytes(StandardCharsets.UTF_8), 1_700_000_000L, BODY))
                .isNotEqualTo(signed);
    }
}
