package io.nomadshell.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A key's webhook secret in the keys file: its owner's alone, and old files keep working without one. */
class ApiKeysTest {
    private static ApiKeys read(List<String> lines) {
        return ApiKeys.of(KeysFile.parse(lines)).withWebhookSecrets(KeysFile.webhookSecrets(lines));
    }

    @Test
    void anOldKeysFileHasNoWebhookSecrets() {
        var keys = read(List.of("# team keys", "", "  k1  ", "k2"));
        var k1 = keys.authenticate("Bearer k1").orElseThrow();
        assertThat(keys.webhookSecrets().of(k1)).isEmpty();
    }

    @Test
    void aKeysWebhookSecretIsItsOwnersAlone() {
        var keys = read(List.of("k1 name=team-a running_jobs=2 webhook_secret=0123456789abcdef-one", "k2"));
        var k1 = keys.authenticate("Bearer k1").orElseThrow();
        var k2 = keys.authenticate("Bearer k2").orElseThrow();
        assertThat(keys.webhookSecrets().of(k1)).hasValueSatisfying(
                secret -> assertThat(new String(secret, StandardCharsets.UTF_8)).isEqualTo("0123456789abcdef-one"));
        assertThat(keys.webhookSecrets().of(k2)).isEmpty();
        assertThat(keys.quotas().of(k1).runningJobs()).as("the other settings still hold").isEqualTo(2);
    }

    @Test
    void aShortSecretIsRefusedByLineWithoutTheKeyOrTheSecret() {
        assertThatThrownBy(() -> KeysFile.webhookSecrets(List.of("k1", "secret-key webhook_secret=short")))
                .hasMessageContaining("line 2").hasMessageContaining("at least 16")
                .hasMessageNotContaining("secret-key").hasMessageNotContaining("short");
    }
}
