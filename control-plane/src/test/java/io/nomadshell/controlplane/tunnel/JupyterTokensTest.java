package io.nomadshell.controlplane.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class JupyterTokensTest {
    private static final byte[] SECRET = filled(7);

    @Test
    void everyReplicaWithTheSecretDerivesTheSameTokenForAJobAndNoOtherJobSharesIt() {
        var token = new JupyterTokens(SECRET).of("jabc");
        assertThat(new JupyterTokens(SECRET.clone()).of("jabc")).isEqualTo(token);
        assertThat(new JupyterTokens(SECRET).of("jabd")).isNotEqualTo(token);
        assertThat(new JupyterTokens(filled(8)).of("jabc")).as("another secret").isNotEqualTo(token);
        assertThat(token).matches("[A-Za-z0-9_-]{43}");
    }

    @Test
    void aShortSecretIsRefused() {
        assertThatThrownBy(() -> new JupyterTokens(new byte[16])).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] filled(int value) {
        var secret = new byte[32];
        Arrays.fill(secret, (byte) value);
        return secret;
    }
}
