package io.nomadshell.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The keys file: a key a line, as always, optionally with the key's webhook secret. */
class ApiKeysTest {
    @Test
    void anOldKeysFileStillAuthenticatesEveryKeyAsBefore() {
        var parsed = ApiKeys.parse(List.of("# team keys", "", "  k1  ", "k2"), Set.of("k3"));
        var old = ApiKeys.of(Set.of("k1", "k2", "k3"));
        for (var key : List.of("k1", "k2", "k3")) {
            assertThat(parsed.authenticate("Bearer " + key)).isPresent().isEqualTo(old.authenticate("Bearer " + key));
        }
        assertThat(parsed.authenticate("Bearer k4")).isEmpty();
        assertThat(parsed.webhookSecrets().of(parsed.authenticate("Bearer k1").orElseThrow())).isEmpty();
    }

    @Test
    void aKeysWebhookSecretIsItsOwnersAlone() {
        var keys = ApiKeys.parse(List.of("k1 webhook_secret=0123456789abcdef-one", "k2"), Set.of());
        var k1 = keys.authenticate("Bearer k1").orElseThrow();
        var k2 = keys.authenticate("Bearer k2").orElseThrow();
        assertThat(keys.webhookSecrets().of(k1)).hasValueSatisfying(
                secret -> assertThat(new String(secret, StandardCharsets.UTF_8)).isEqualTo("0123456789abcdef-one"));
        assertThat(keys.webhookSecrets().of(k2)).isEmpty();
        assertThat(keys.authenticate("Bearer k1 webhook_secret=0123456789abcdef-one")).as("the line is not the key").isEmpty();
    }

    @Test
    void unknownSettingsAndShortSecretsAreRefusedByLineWithoutTheKey() {
        assertThatThrownBy(() -> ApiKeys.parse(List.of("k1", "secret-key colour=blue"), Set.of()))
                .hasMessageContaining("line 2").hasMessageContaining("unknown setting 'colour'")
                .hasMessageNotContaining("secret-key");
        assertThatThrownBy(() -> ApiKeys.parse(List.of("k1 webhook_secret=short"), Set.of()))
                .hasMessageContaining("line 1").hasMessageContaining("at least 16");
    }
}
