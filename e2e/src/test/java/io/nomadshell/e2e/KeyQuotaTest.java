package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.proto.v1.GetUsageRequest;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits per API key over the real server: jobs that sleep in real sandboxes hold a key's place; a key
 * at its running-jobs limit is refused (429, RESOURCE_EXHAUSTED) until one ends; a key past its tokens
 * of the day is refused until UTC midnight; GET /v1/usage and /metrics show each key's own numbers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyQuotaTest {
    private static final String RUNNER = "secret-runner-key";
    private static final String SPENDER = "secret-spender-key";
    private static final Duration START = Duration.ofSeconds(30);

    private ScriptedModelServer model;
    private TestCluster cluster;
    private ManagedChannel channel;
    private Path serverDir;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        serverDir = dataDir.resolve("server");
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("sleep-forever", dataDir, "quota-" + ProcessHandle.current().pid()))
                .build().start();
        cluster = TestCluster.start(serverDir, model.baseUrl(), 3, ApiKeys.of(Map.of(
                RUNNER, new KeyQuota("runner", 1, 0, 0, 0, 0, 0),
                SPENDER, new KeyQuota("spender", 0, 0, 1, 0, 0, 0))));
        channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aKeyAtItsRunningLimitIsRefusedUntilItsJobEnds() {
        var runner = cluster.rest(RUNNER);
        var held = runner.schedule("Sleep");
        runner.awaitStatus(held, Set.of("running"), START);

        var refused = runner.post("/v1/jobs", "application/json", "{\"task\": \"Sleep again\"}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(Rest.json(refused).path("message").asText()).isEqualTo("API key runner has 1 jobs queued or "
                + "running, its limit (running_jobs 1): a new job is accepted once one of them ends");
        assertThat(refused.headers().firstValue("retry-after")).as("no time is known when a job ends").isEmpty();
        var grpcRefused = catchThrowableOfType(StatusRuntimeException.class,
                () -> stub(RUNNER).schedule(ScheduleRequest.newBuilder().setTask("Sleep again").build()));
        assertThat(grpcRefused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(grpcRefused.getStatus().getDescription()).contains("running_jobs 1");

        var usage = Rest.json(runner.get("/v1/usage"));
        assertThat(usage.path("key").asText()).isEqualTo("runner");
        assertThat(usage.path("running_jobs").asLong()).isEqualTo(1);
        assertThat(usage.path("limits").path("running_jobs").asInt()).isEqualTo(1);
        assertThat(stub(RUNNER).getUsage(GetUsageRequest.getDefaultInstance()).getRunningJobs()).isEqualTo(1);
        var metrics = runner.get("/metrics").body();
        assertThat(metrics).contains("nomadshell_key_jobs{key=\"runner\",state=\"running\"} 1.0")
                .contains("key=\"spender\"").doesNotContain(RUNNER).doesNotContain(SPENDER);

        cancel(runner, held);
        var next = runner.schedule("Sleep once more");
        runner.awaitStatus(next, Set.of("running"), START);
        cancel(runner, next);
    }

    @Test
    void aKeyPastItsTokensOfTheDayIsRefusedUntilUtcMidnight() {
        var spender = cluster.rest(SPENDER);
        var job = spender.schedule("Sleep");
        // The model's first answer (the sleep) is what spends the day's one token.
        var usage = awaitTokens(spender);
        assertThat(usage.path("key").asText()).isEqualTo("spender");
        cancel(spender, job);

        var refused = spender.post("/schedule", "application/json", "{\"task\": \"Sleep again\"}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        var midnight = Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
        assertThat(Rest.json(refused).path("message").asText())
                .startsWith("API key spender used " + usage.path("tokens_today").asLong() + " model tokens today")
                .endsWith("its limit (tokens_per_day 1): new jobs are accepted again at " + midnight + " (UTC midnight)");
        long untilMidnight = Duration.between(Instant.now(), midnight).toSeconds();
        var retryAfter = refused.headers().firstValueAsLong("retry-after");
        assertThat(retryAfter).as("Retry-After").isPresent();
        assertThat(retryAfter.getAsLong()).as("Retry-After, in seconds until midnight")
                .isBetween(untilMidnight - 60, untilMidnight + 60);
        assertThat(usage.path("day_ends_at").asText()).isEqualTo(midnight.toString());
        assertThat(Rest.json(cluster.rest(RUNNER).get("/v1/usage")).path("tokens_today").asLong())
                .as("each key sees its own").isLessThan(usage.path("tokens_today").asLong() + 1);
    }

    private JsonNode awaitTokens(Rest rest) {
        var deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            var usage = Rest.json(rest.get("/v1/usage"));
            if (usage.path("tokens_today").asLong() > 0) {
                return usage;
            }
            Rest.sleep(50);
        }
        return fail("no tokens counted within %s", START);
    }

    /** Cancels the job, and waits for its sandbox's workspace to be let go (every other job has ended). */
    private void cancel(Rest rest, String job) {
        assertThat(rest.post("/v1/jobs/" + job + ":cancel", "application/json", "{}").statusCode()).isEqualTo(200);
        rest.awaitEnd(job, START);
        var deadline = System.nanoTime() + START.toNanos();
        while (!Leftovers.mountsUnder(serverDir).isEmpty()) {
            if (System.nanoTime() > deadline) {
                fail("the workspace of %s is still mounted: %s", job, Leftovers.mountsUnder(serverDir));
            }
            Rest.sleep(50);
        }
    }

    private JobServiceGrpc.JobServiceBlockingStub stub(String key) {
        var headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        return JobServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }
}
