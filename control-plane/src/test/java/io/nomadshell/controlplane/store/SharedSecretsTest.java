package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two replicas on one Redis hold the same keys, whichever asks first, and keep them across restarts. */
class SharedSecretsTest {
    private EmbeddedRedis redis;
    private RedisConnection first;
    private RedisConnection second;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        first = RedisConnection.connect(redis.url(), "first");
        second = RedisConnection.connect(redis.url(), "second");
    }

    @AfterEach
    void stop() {
        first.close();
        second.close();
        redis.close();
    }

    @Test
    void theFirstReplicasKeyIsEveryReplicasKey() {
        var made = new SharedSecrets(first).get("links");
        assertThat(made).hasSize(SharedSecrets.LENGTH);
        assertThat(new SharedSecrets(second).get("links")).isEqualTo(made);
        assertThat(new SharedSecrets(second).get("links", new byte[SharedSecrets.LENGTH]))
                .as("a later proposal does not replace the key").isEqualTo(made);
        assertThat(new SharedSecrets(second).get("attach")).as("another name, another key").isNotEqualTo(made);
    }

    @Test
    void aProposedKeyIsTakenWhenThereIsNoneAndAShortOneIsRefused() {
        var kept = "a key an earlier server kept on disk".getBytes();
        assertThat(new SharedSecrets(first).get("attach", kept)).isEqualTo(kept);
        assertThat(new SharedSecrets(second).get("attach")).isEqualTo(kept);
        assertThatThrownBy(() -> new SharedSecrets(first).get("short", new byte[16]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 32 bytes");
    }
}
