package io.nomadshell.controlplane.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JobTokensTest {
    private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    private final byte[] secret = filled(7);
    private final JobTokens tokens = new JobTokens(secret, Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void aTokenNamesItsJob() throws Exception {
        var token = tokens.issue("jabcdefghijklmnopqrst", NOW.plus(Duration.ofMinutes(5)));
        var launch = tokens.verify(token);
        assertThat(launch.jobId()).isEqualTo("jabcdefghijklmnopqrst");
        assertThat(launch.expiry()).isEqualTo(NOW.plus(Duration.ofMinutes(5)));
    }

    @Test
    void anExpiredTokenIsRefused() {
        var token = tokens.issue("jabcdefghijklmnopqrst", NOW.minusSeconds(1));
        assertThatThrownBy(() -> tokens.verify(token)).hasMessageContaining("expired");
    }

    @Test
    void aTokenEditedToNameAnotherJobIsRefused() {
        var token = tokens.issue("jabcdefghijklmnopqrst", NOW.plusSeconds(600));
        var forged = token.replace("jabcdefghijklmnopqrst", "jzzzzzzzzzzzzzzzzzzzz");
        assertThatThrownBy(() -> tokens.verify(forged)).hasMessageContaining("signature");
    }

    @Test
    void aTokenSignedWithAnotherSecretIsRefused() {
        var other = new JobTokens(filled(8), Clock.fixed(NOW, ZoneOffset.UTC));
        var token = other.issue("jabcdefghijklmnopqrst", NOW.plusSeconds(600));
        assertThatThrownBy(() -> tokens.verify(token)).hasMessageContaining("signature");
    }

    @Test
    void garbageIsMalformed() {
        assertThatThrownBy(() -> tokens.verify("not-a-token")).hasMessageContaining("malformed");
        assertThatThrownBy(() -> tokens.verify("v1.a.b")).hasMessageContaining("malformed");
        assertThatThrownBy(() -> tokens.verify("v1.jabc.9999999999.c2lnbmF0dXJl")).hasMessageContaining("malformed");
    }

    @Test
    void everyTokenCarriesANonceOfItsOwn() throws Exception {
        var expiry = NOW.plusSeconds(600);
        var first = tokens.issue("jabcdefghijklmnopqrst", expiry);
        var second = tokens.issue("jabcdefghijklmnopqrst", expiry);

        assertThat(first).isNotEqualTo(second);
        assertThat(tokens.verify(first).nonce()).isNotEqualTo(tokens.verify(second).nonce()).isNotBlank();
    }

    @Test
    void aTokenWithAnEditedNonceIsRefused() {
        var token = tokens.issue("jabcdefghijklmnopqrst", NOW.plusSeconds(600));
        var parts = token.split("\\.");
        parts[3] = "AAAAAAAAAAAAAAAAAAAAAA";
        assertThatThrownBy(() -> tokens.verify(String.join(".", parts))).hasMessageContaining("signature");
    }

    @Test
    void aShortSecretIsRejectedAtConstruction() {
        assertThatThrownBy(() -> new JobTokens(new byte[16], Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] filled(int value) {
        var bytes = new byte[32];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }
}
