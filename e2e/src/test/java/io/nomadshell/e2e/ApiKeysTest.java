package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** With API keys, callers must authenticate and see only their own jobs. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiKeysTest {
    private ScriptedModelServer model;
    private TestCluster cluster;
    private ManagedChannel channel;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2, ApiKeys.of(Set.of("k1", "k2")));
        channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void withoutAKeyRestIs401() {
        var response = cluster.rest().post("/schedule", "application/json", "{\"task\":\"hello\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(401);
        assertThat(cluster.rest("not-a-key").post("/schedule", "application/json", "{\"task\":\"hello\"}")
                .statusCode()).isEqualTo(401);
        assertThat(cluster.rest().get("/status/jaaaaaaaaaaaaaaaaaaaa").statusCode()).isEqualTo(401);
        assertThat(cluster.rest().get("/download/jaaaaaaaaaaaaaaaaaaaa").statusCode()).isEqualTo(401);
    }

    @Test
    void withoutAKeyGrpcIsUnauthenticated() {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> stub.schedule(ScheduleRequest.newBuilder().setTask("hello").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }

    @Test
    void aKeySeesOnlyItsOwnJobs() {
        var k1 = cluster.rest("k1");
        var k2 = cluster.rest("k2");
        var id = k1.schedule(Fixtures.HELLO_TASK);

        assertThat(k2.get("/status/" + id).statusCode()).isEqualTo(404);
        assertThat(k2.get("/download/" + id).statusCode()).isEqualTo(404);
        assertThat(k1.get("/status/" + id).statusCode()).isEqualTo(200);

        var polled = k1.awaitEnd(id, Duration.ofSeconds(60));
        assertThat(polled.last().path("status").asText()).isEqualTo("complete");
        assertThat(k2.get("/status/" + id).statusCode()).as("still hidden once complete").isEqualTo(404);
        assertThat(k2.getBytes("/download/" + id).statusCode()).isEqualTo(404);
        assertThat(k1.getBytes("/download/" + id).statusCode()).isEqualTo(200);

        var headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer k2");
        var asK2 = JobServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> asK2.getJob(GetJobRequest.newBuilder().setJobId(id).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }
}
