package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.JobIds;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A launch credential is spent once, also when a server of the earlier key layout spent it. */
class AttachLedgerTest {
    private EmbeddedRedis redis;
    private RedisConnection connection;
    private AttachLedger ledger;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        ledger = new AttachLedger(connection);
    }

    @AfterEach
    void stop() {
        connection.close();
        redis.close();
    }

    @Test
    void aNonceIsSpentOnceAndItsRecordLivesUntilTheCredentialExpires() {
        var id = JobIds.next();
        var expiry = Instant.now().plusSeconds(600);
        assertThat(ledger.isSpent(id, "n1")).isFalse();
        assertThat(ledger.spendLaunch(id, "n1", expiry)).isTrue();
        assertThat(ledger.spendLaunch(id, "n1", expiry)).isFalse();
        assertThat(ledger.isSpent(id, "n1")).isTrue();
        assertThat(ledger.spendLaunch(id, "n2", Instant.now().plusSeconds(60))).as("another nonce").isTrue();
        assertThat(connection.commands().pttl(Keys.spentLaunches(id))).as("the later expiry holds")
                .isBetween(590_000L, 600_000L);
    }

    @Test
    void aNonceSpentInTheEarlierLayoutStaysSpent() {
        var id = JobIds.next();
        connection.commands().set(Keys.spentLaunchBefore(id, "n1"), "1");
        assertThat(ledger.isSpent(id, "n1")).isTrue();
        assertThat(ledger.spendLaunch(id, "n1", Instant.now().plusSeconds(60))).isFalse();
    }
}
