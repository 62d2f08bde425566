package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.sync.RedisCommands;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a retention of 2 s: a job's keys never expire while it runs (for longer than the retention),
 * and once it has ended every key that names it, its zip and its place in the job list are gone.
 */
class RetentionTest {
    private static final Duration RETENTION = Duration.ofSeconds(2);

    private final String marker = "kept-" + UUID.randomUUID();
    private EmbeddedRedis redis;
    private RedisConnection connection;
    private ScriptedModelServer model;
    private TestCluster cluster;
    private Path serverDir;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "retention-test");
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("write-wait-finish", dir, marker)).build().start();
        serverDir = dir.resolve("server");
        cluster = TestCluster.start(serverDir, model.baseUrl(),
                options -> options.redisUrl(redis.url()).retention(RETENTION));
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        if (connection != null) connection.close();
        if (redis != null) redis.close();
    }

    @Test
    void aRunningJobsKeysNeverExpireAndAnEndedJobsKeysAndZipGoAfterTheRetention() {
        var rest = cluster.rest();
        var redis = connection.commands();
        var id = rest.schedule("Write kept.txt, then wait five seconds");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(60));

        // Running: for longer than the retention, no data key of the job has an expiry.
        long checkedSince = System.nanoTime();
        long checkedFor = 0;
        int checks = 0;
        while (rest.status(id).path("status").asText().equals("running")) {
            var keys = keysNaming(redis, id);
            assertThat(keys).as("a running job has its hash and events").contains("ns:job:" + id, "ns:events:" + id);
            for (var key : keys) {
                if (!key.startsWith("ns:lease:") && !key.startsWith("ns:attach:")) {
                    assertThat(redis.pttl(key)).as("TTL of %s while the job runs", key).isEqualTo(-1L);
                }
            }
            checks++;
            checkedFor = System.nanoTime() - checkedSince;
            Rest.sleep(200);
        }
        assertThat(Duration.ofNanos(checkedFor)).as("checked while running (%d checks)", checks)
                .isGreaterThan(RETENTION.plusMillis(500));

        var ended = rest.awaitEnd(id, Duration.ofSeconds(60)).last();
        assertThat(ended.path("status").asText()).as("%s", ended).isEqualTo("complete");
        var zip = serverDir.resolve("artifacts").resolve(id + ".zip");
        assertThat(zip).as("the job's zip, once it ended").exists();
        assertThat(rest.get("/v1/jobs").body()).contains(id);
        for (var key : keysNaming(redis, id)) {
            assertThat(redis.pttl(key)).as("TTL of %s once the job ended", key)
                    .isBetween(1L, RETENTION.toMillis());
        }

        awaitGone(redis, id, zip, Duration.ofSeconds(30));
        assertThat(rest.get("/status/" + id).statusCode()).isEqualTo(404);
        assertThat(rest.get("/v1/jobs").body()).as("the job list").doesNotContain(id);
        assertThat(redis.zrange("ns:ended", 0, -1)).as("ended jobs still filed").noneMatch(m -> m.startsWith(id));
    }

    private static void awaitGone(RedisCommands<String, String> redis, String id, Path zip, Duration timeout) {
        var deadline = System.nanoTime() + timeout.toNanos();
        List<String> keys = List.of();
        while (System.nanoTime() < deadline) {
            keys = keysNaming(redis, id);
            if (keys.isEmpty() && !Files.exists(zip) && redis.keys("ns:owner:*").stream()
                    .allMatch(index -> redis.zscore(index, id) == null)) {
                return;
            }
            Rest.sleep(100);
        }
        fail("after %s, job %s still has keys %s, zip %s, or a place in the owner's index", timeout, id, keys,
                Files.exists(zip));
    }

    /** Every key whose name contains the job id (SCAN, as an operator would look). */
    private static List<String> keysNaming(RedisCommands<String, String> redis, String id) {
        var keys = new ArrayList<String>();
        ScanCursor cursor = ScanCursor.INITIAL;
        for (int round = 0; round < 10_000 && !cursor.isFinished(); round++) {
            KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches("*" + id + "*").limit(1000));
            keys.addAll(page.getKeys());
            cursor = page;
        }
        return keys;
    }
}
