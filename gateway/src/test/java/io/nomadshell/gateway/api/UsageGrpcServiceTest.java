package io.nomadshell.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.quota.Quotas;
import io.nomadshell.proto.v1.GetUsageRequest;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key limits through {@code JobService} in-process, with a real control plane whose launcher holds
 * each sandbox start until the test lets it fail: a key at its limit is RESOURCE_EXHAUSTED, its usage
 * says why, and a job that ends frees its place.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsageGrpcServiceTest {
    private static final String OWNER = "key-0123456789abcdef";
    private final CountDownLatch launches = new CountDownLatch(1);
    private ControlPlane controlPlane;
    private Server server;
    private ManagedChannel channel;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        controlPlane = ControlPlane.start(ControlPlaneOptions.builder()
                .dataDir(dataDir)
                .launcher(spec -> {
                    try {
                        launches.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new LaunchException("no sandboxes in this test");
                })
                .model(new ModelOptions("http://127.0.0.1:9/v1", "test", "scripted", 0))
                .quotas(Quotas.of(Map.of(OWNER, new KeyQuota("team-a", 1, 0, 0, 0, 0, 512))))
                .build());
        var name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .addService(ServerInterceptors.intercept(new JobGrpcService(controlPlane.jobs(), controlPlane.tunnels()),
                        new AsOwner(OWNER)))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterAll
    void stop() throws Exception {
        launches.countDown();
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (controlPlane != null) controlPlane.close();
    }

    @Test
    void aKeyAtItsLimitIsExhaustedUntilItsJobEnds() {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        var task = ScheduleRequest.newBuilder().setTask("hold a place").build();
        var first = stub.schedule(task).getJobId();

        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> stub.schedule(task));
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(refused.getStatus().getDescription()).isEqualTo("API key team-a has 1 jobs queued or running, "
                + "its limit (running_jobs 1): a new job is accepted once one of them ends");

        var usage = stub.getUsage(GetUsageRequest.getDefaultInstance());
        assertThat(usage.getKey()).isEqualTo("team-a");
        assertThat(usage.getRunningJobs() + usage.getQueuedJobs()).isEqualTo(1);
        assertThat(usage.getLimits().getRunningJobs()).isEqualTo(1);
        assertThat(usage.getLimits().getMaxMemoryMb()).isEqualTo(512);
        assertThat(usage.getDayEndsAt().getSeconds() % 86_400).isZero();

        launches.countDown();
        // The watch ends once the job has ended (its launch failed) and every event was sent.
        stub.watchJob(WatchJobRequest.newBuilder().setJobId(first).build()).forEachRemaining(event -> {});
        assertThat(stub.schedule(task).getJobId()).isNotEqualTo(first);
    }

    @Test
    void askingPastTheKeysMemoryCapIsInvalid() {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        var refused = catchThrowableOfType(StatusRuntimeException.class,
                () -> stub.schedule(ScheduleRequest.newBuilder().setTask("big").setMemoryMb(1024).build()));
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(refused.getStatus().getDescription()).isEqualTo("memory_mb 1024 exceeds the cap of API key team-a: 512 MiB");
    }
}
