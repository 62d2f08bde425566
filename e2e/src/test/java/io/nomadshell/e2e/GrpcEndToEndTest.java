package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The same journey through the generated gRPC stub: Schedule, WatchJob, GetJob, DownloadArtifact. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcEndToEndTest {
    private ScriptedModelServer model;
    private TestCluster cluster;
    private ManagedChannel channel;
    private JobServiceGrpc.JobServiceBlockingStub jobs;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2);
        channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
        jobs = JobServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void scheduleWatchGetAndDownload() {
        var scheduled = jobs.withDeadlineAfter(10, TimeUnit.SECONDS)
                .schedule(ScheduleRequest.newBuilder().setTask(Fixtures.HELLO_TASK).build());
        var id = scheduled.getJobId();
        assertThat(id).isNotBlank();

        var events = new ArrayList<JobEvent>();
        jobs.withDeadlineAfter(60, TimeUnit.SECONDS)
                .watchJob(WatchJobRequest.newBuilder().setJobId(id).build())
                .forEachRemaining(events::add);

        assertThat(events).isNotEmpty();
        for (int i = 0; i < events.size(); i++) {
            assertThat(events.get(i).getSequence()).as("sequence of event %d", i).isEqualTo(i + 1L);
            assertThat(events.get(i).getJobId()).isEqualTo(id);
        }
        assertThat(events).anySatisfy(event -> {
            assertThat(event.hasStatusChanged()).isTrue();
            assertThat(event.getStatusChanged().getStatus()).isEqualTo("complete");
        });
        assertThat(events).anySatisfy(event -> {
            assertThat(event.hasArtifactReady()).isTrue();
            assertThat(event.getArtifactReady().getBytes()).isPositive();
        });
        assertThat(events).anySatisfy(event -> assertThat(event.hasToolStarted()).isTrue());

        var job = jobs.withDeadlineAfter(10, TimeUnit.SECONDS).getJob(GetJobRequest.newBuilder().setJobId(id).build());
        assertThat(job.getStatus()).isEqualTo("complete");
        assertThat(job.getDownloadUrl()).contains(id);
        assertThat(job.getSteps()).isPositive();
        assertThat(job.getTotalTokens()).isPositive();

        var zip = new ByteArrayOutputStream();
        jobs.withDeadlineAfter(30, TimeUnit.SECONDS)
                .downloadArtifact(DownloadArtifactRequest.newBuilder().setJobId(id).build())
                .forEachRemaining(chunk -> zip.writeBytes(chunk.getData().toByteArray()));
        assertThat((long) zip.size()).isEqualTo(job.getArtifactBytes());
        assertThat(Fixtures.unzip(zip.toByteArray())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "hello.py", Fixtures.HELLO_PY,
                "README.md", Fixtures.HELLO_README));
    }

    @Test
    void unknownJobIsNotFound() {
        assertThatThrownBy(() -> jobs.withDeadlineAfter(10, TimeUnit.SECONDS)
                .getJob(GetJobRequest.newBuilder().setJobId("jaaaaaaaaaaaaaaaaaaaa").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isNotBlank();
                });
    }
}
