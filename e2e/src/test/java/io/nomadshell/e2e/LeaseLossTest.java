package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica that loses a running job's lease (as when Redis or the network stalls past its TTL)
 * stops the job at once without failing it, since another replica may own it now; whoever holds the
 * lease next resumes it, and the call that was running is answered as lost, never run twice.
 */
class LeaseLossTest {
    private final String marker = "marker-" + UUID.randomUUID();
    private EmbeddedRedis redis;
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
    }

    @Test
    void jobWhoseLeaseLapsedStopsHereAndIsResumedWithoutRepeatingTheCall(@TempDir Path tmp) throws Exception {
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("lease.json"), """
                {"name": "lease",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "sleep 600; echo %s"}}]},
                   {"expect": "its result is lost. It was not run again",
                    "tool_calls": [{"name": "finish", "arguments": {"summary": "resumed"}}]}
                 ]}
                """.formatted(marker)))).build().start();
        cluster = TestCluster.start(tmp.resolve("server"), model.baseUrl(), options -> options.redisUrl(redis.url()));
        var rest = cluster.rest();

        var job = rest.schedule("Sleep, then finish");
        rest.awaitStatus(job, Set.of("running"), Duration.ofSeconds(60));
        var deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Fixtures.processesWith(marker).isEmpty() && Instant.now().isBefore(deadline)) {
            Rest.sleep(100);
        }
        assertThat(Fixtures.processesWith(marker)).as("the sleep runs in the sandbox").isNotEmpty();

        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            assertThat(connection.commands().del("ns:lease:" + job)).as("the lease existed").isEqualTo(1L);
        }
        var last = rest.awaitEnd(job, Duration.ofSeconds(90)).last();

        assertThat(last.path("status").asText()).as("%s\n%s", last, Fixtures.history(cluster.port(), job)).isEqualTo("complete");
        assertThat(Fixtures.processesWith(marker)).as("the interrupted sleep was stopped and not run again").isEmpty();
        assertThat(last.path("steps").asInt()).isEqualTo(2);
    }
}
