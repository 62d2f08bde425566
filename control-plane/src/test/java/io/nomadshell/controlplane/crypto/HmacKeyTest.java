package io.nomadshell.controlplane.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class HmacKeyTest {
    private static final byte[] JEFE = "Jefe".getBytes(StandardCharsets.US_ASCII);

    /** RFC 4231, test case 2: a MAC over parts is the MAC over them joined. */
    @Test
    void macsAsTheRfcSays() {
        var key = new HmacKey(JEFE, 4, "the key");
        assertThat(HexFormat.of().formatHex(key.mac("what do ya want ".getBytes(StandardCharsets.US_ASCII),
                "for nothing?".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    @Test
    void signsUrlSafelyAndChecksOnlyItsOwnSignature() {
        var key = new HmacKey(JEFE, 4, "the key");
        var signature = key.sign("what do ya want for nothing?");
        assertThat(signature).isEqualTo("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
        assertThat(key.signs("what do ya want for nothing?", signature)).isTrue();
        assertThat(key.signs("what do ya want for something?", signature)).isFalse();
        assertThat(new HmacKey("Jeff".getBytes(StandardCharsets.US_ASCII), 4, "the key")
                .signs("what do ya want for nothing?", signature)).isFalse();
    }

    @Test
    void aShortSecretIsRefusedByName() {
        assertThatThrownBy(() -> new HmacKey(JEFE, 32, "a link key"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("a link key must be at least 32 bytes");
    }
}
