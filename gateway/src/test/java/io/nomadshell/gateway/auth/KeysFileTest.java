package io.nomadshell.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.quota.KeyQuota;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The keys file: a key a line, with optional names and limits; the older one-key-a-line files still read. */
class KeysFileTest {
    @Test
    void aFileOfBareKeysStillReadsAndKeepsItsOwners() {
        var quotas = KeysFile.parse(List.of("# keys", "", "k1", "  k2  "));
        assertThat(quotas).containsOnlyKeys("k1", "k2");
        var keys = ApiKeys.of(quotas);
        var owner = keys.authenticate("Bearer k1").orElseThrow();
        assertThat(owner).isEqualTo(ApiKeys.of(Set.of("k1")).authenticate("Bearer k1").orElseThrow());
        assertThat(keys.quotas().of(owner)).isEqualTo(KeyQuota.unlimited(owner));
    }

    @Test
    void namesAndLimitsFollowTheKey() {
        var quotas = KeysFile.parse(List.of("k1 name=team-a running_jobs=4 queued_jobs=8 tokens_per_day=2000000 "
                + "usd_per_day=20.5 max_cpu_mhz=2000 max_memory_mb=2048"));
        assertThat(quotas.get("k1")).isEqualTo(new KeyQuota("team-a", 4, 8, 2_000_000, 20.5, 2000, 2048));
        var keys = ApiKeys.of(quotas);
        assertThat(keys.quotas().of(keys.authenticate("Bearer k1").orElseThrow()).name()).isEqualTo("team-a");
    }

    @Test
    void mistakesNameTheLineAndNeverTheKey() {
        assertThatThrownBy(() -> KeysFile.parse(List.of("secret-key runing_jobs=2")))
                .hasMessageStartingWith("line 1 of the API keys file: 'runing_jobs' is not a setting")
                .hasMessageNotContaining("secret-key");
        assertThatThrownBy(() -> KeysFile.parse(List.of("#", "secret-key running_jobs=-1")))
                .hasMessage("line 2 of the API keys file: running_jobs must be a whole number from 0 (no limit), not '-1'");
        assertThatThrownBy(() -> KeysFile.parse(List.of("a name=x", "b name=x")))
                .hasMessage("line 2 of the API keys file: another key is already named x");
        assertThatThrownBy(() -> KeysFile.parse(List.of("name=x")))
                .hasMessage("line 1 of the API keys file starts with a setting: each line starts with its key");
        assertThatThrownBy(() -> KeysFile.parse(List.of("k usd_per_day=lots")))
                .hasMessageContaining("usd_per_day must be a number of dollars");
    }
}
