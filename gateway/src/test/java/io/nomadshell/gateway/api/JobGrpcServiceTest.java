package io.nomadshell.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.ForkJobRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.GitSeed;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ListCheckpointsRequest;
import io.nomadshell.proto.v1.PauseJobRequest;
import io.nomadshell.proto.v1.PortForwardRequest;
import io.nomadshell.proto.v1.PortForwardResponse;
import io.nomadshell.proto.v1.ResumeJobRequest;
import io.nomadshell.proto.v1.RollbackJobRequest;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.proto.v1.SendMessageRequest;
import io.nomadshell.proto.v1.Seed;
import io.nomadshell.proto.v1.UploadChunk;
import io.nomadshell.proto.v1.UploadResponse;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code JobService} in-process, with a real control plane (its embedded Redis) whose launcher
 * refuses every sandbox, so each job ends in error after a few events: errors are the right statuses
 * without Armeria's mapping, and the server streams obey the client's flow control.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobGrpcServiceTest {
    private static final String OWNER = "owner-1";
    private ControlPlane controlPlane;
    private Server server;
    private ManagedChannel channel;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        controlPlane = ControlPlane.start(ControlPlaneOptions.builder()
                .dataDir(dataDir)
                .launcher(spec -> {
                    throw new LaunchException("no sandboxes in this test");
                })
                .model(new ModelOptions("http://127.0.0.1:9/v1", "test", "scripted", 0))
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
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (controlPlane != null) controlPlane.close();
    }

    @Test
    void unknownJobsAreNotFoundOnEveryMethod() throws Exception {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var unknown = "jaaaaaaaaaaaaaaaaaaaa";
        assertCode(() -> stub.getJob(GetJobRequest.newBuilder().setJobId(unknown).build()), Status.Code.NOT_FOUND);
        assertCode(() -> stub.watchJob(WatchJobRequest.newBuilder().setJobId(unknown).build()).hasNext(), Status.Code.NOT_FOUND);
        assertCode(() -> stub.downloadArtifact(DownloadArtifactRequest.newBuilder().setJobId(unknown).build()).hasNext(),
                Status.Code.NOT_FOUND);
        assertCode(() -> stub.schedule(ScheduleRequest.newBuilder().setTask("").build()), Status.Code.INVALID_ARGUMENT);

        var forwarded = new CompletableFuture<Status>();
        var forward = JobServiceGrpc.newStub(channel).portForward(new StreamObserver<>() {
            @Override
            public void onNext(PortForwardResponse value) {}

            @Override
            public void onError(Throwable t) {
                forwarded.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                forwarded.complete(Status.OK);
            }
        });
        forward.onNext(PortForwardRequest.newBuilder().setJobId(unknown).setPort(8000).build());
        assertThat(forwarded.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.NOT_FOUND);
        forward.onCompleted();
    }

    @Test
    void uploadsAreCheckedAndEachSeedsOneJob() throws Exception {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var upload = upload(zip("src/a.py", "print(1)\n"));
        assertThat(upload.getFormat()).isEqualTo("zip");
        assertThat(upload.getFiles()).isEqualTo(1);
        assertThat(upload.getBytes()).isEqualTo(9);

        assertThat(Status.fromThrowable(catchThrowable(() -> upload(zip("../a.py", "x")))).getDescription())
                .contains("entry '../a.py' would land outside the workspace");
        assertThat(Status.fromThrowable(catchThrowable(() -> upload(new byte[0]))).getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);

        assertCode(() -> stub.schedule(seeded("up-000000000000000000000000", "")), Status.Code.NOT_FOUND);
        assertCode(() -> stub.schedule(seeded("../../etc/passwd", "")), Status.Code.NOT_FOUND);
        var job = stub.schedule(seeded(upload.getUploadId(), "key-1"));
        assertCode(() -> stub.schedule(seeded(upload.getUploadId(), "")), Status.Code.NOT_FOUND);

        // A retry of the same schedule finds the first job and leaves the new upload as it was.
        var second = upload(zip("b.txt", "b"));
        assertThat(stub.schedule(seeded(second.getUploadId(), "key-1")).getJobId()).isEqualTo(job.getJobId());
        assertThat(stub.schedule(seeded(second.getUploadId(), "")).getJobId()).isNotEqualTo(job.getJobId());
    }

    @Test
    void gitSeedsAreCheckedBeforeAnythingIsFetched() {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var both = ScheduleRequest.newBuilder().setTask("t").setSeed(Seed.newBuilder()
                .setUploadId("up-000000000000000000000000")
                .setGit(GitSeed.newBuilder().setUrl("https://example.com/r.git"))).build();
        assertThat(Status.fromThrowable(catchThrowable(() -> stub.schedule(both))))
                .satisfies(status -> assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .satisfies(status -> assertThat(status.getDescription()).contains("give one of upload_id and git"));
        var local = ScheduleRequest.newBuilder().setTask("t").setSeed(Seed.newBuilder()
                .setGit(GitSeed.newBuilder().setUrl("file:///etc").setRef("main"))).build();
        assertThat(Status.fromThrowable(catchThrowable(() -> stub.schedule(local))))
                .satisfies(status -> assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .satisfies(status -> assertThat(status.getDescription()).contains("git URLs of the kind file are refused"));
    }

    private static ScheduleRequest seeded(String uploadId, String idempotencyKey) {
        return ScheduleRequest.newBuilder().setTask("work on the seed").setIdempotencyKey(idempotencyKey)
                .setSeed(Seed.newBuilder().setUploadId(uploadId)).build();
    }

    private UploadResponse upload(byte[] archive) throws Exception {
        var call = JobServiceGrpc.newBlockingV2Stub(channel).upload();
        for (int offset = 0; offset < archive.length; offset += 100) {
            call.write(UploadChunk.newBuilder()
                    .setData(ByteString.copyFrom(archive, offset, Math.min(100, archive.length - offset))).build());
        }
        call.halfClose();
        return call.read(10, TimeUnit.SECONDS);
    }

    private static byte[] zip(String name, String content) throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        try (var zip = new org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream(bytes)) {
            zip.putArchiveEntry(new org.apache.commons.compress.archivers.zip.ZipArchiveEntry(name));
            zip.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    @Test
    void aWatcherThatAsksForOneEventAtATimeGetsThemAllInOrder() throws Exception {
        var id = endedJob();
        var events = new LinkedBlockingQueue<JobEvent>();
        var closed = new CompletableFuture<Status>();
        var call = channel.newCall(JobServiceGrpc.getWatchJobMethod(), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(JobEvent message) {
                events.add(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, new Metadata());
        call.sendMessage(WatchJobRequest.newBuilder().setJobId(id).build());
        call.halfClose();

        var received = new ArrayList<JobEvent>();
        while (!closed.isDone() || !events.isEmpty()) {
            call.request(1);
            var event = events.poll(2, TimeUnit.SECONDS);
            if (event != null) {
                received.add(event);
                assertThat(events).as("the server sent only what was asked for").isEmpty();
            }
        }
        assertThat(closed.get()).isEqualTo(Status.OK);
        assertThat(received).as("the job's events").hasSizeGreaterThanOrEqualTo(2);
        assertThat(received).extracting(JobEvent::getSequence).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void aSilentWatcherDoesNotHoldTheUnaryCalls() throws Exception {
        var id = endedJob();
        var calls = new ArrayList<ClientCall<WatchJobRequest, JobEvent>>();
        for (int i = 0; i < 50; i++) {
            var call = channel.newCall(JobServiceGrpc.getWatchJobMethod(), CallOptions.DEFAULT);
            call.start(new ClientCall.Listener<>() {}, new Metadata());
            call.sendMessage(WatchJobRequest.newBuilder().setJobId(id).build());
            call.halfClose();
            calls.add(call);
        }
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        assertThat(stub.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getJobId()).isEqualTo(id);
        calls.forEach(call -> call.cancel("done", null));
    }

    @Test
    void downloadBeforeCompletionIsFailedPrecondition() {
        var id = endedJob();
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertCode(() -> stub.downloadArtifact(DownloadArtifactRequest.newBuilder().setJobId(id).build()).hasNext(),
                Status.Code.FAILED_PRECONDITION);
    }

    @Test
    void sessionCallsAnswerInStatuses() {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        var unknown = "jaaaaaaaaaaaaaaaaaaaa";
        assertCode(() -> stub.sendMessage(SendMessageRequest.newBuilder().setJobId(unknown).setText("hi").build()),
                Status.Code.NOT_FOUND);
        assertCode(() -> stub.pauseJob(PauseJobRequest.newBuilder().setJobId(unknown).build()), Status.Code.NOT_FOUND);
        assertCode(() -> stub.resumeJob(ResumeJobRequest.newBuilder().setJobId(unknown).build()), Status.Code.NOT_FOUND);
        assertCode(() -> stub.forkJob(ForkJobRequest.newBuilder().setJobId(unknown).build()), Status.Code.NOT_FOUND);
        assertCode(() -> stub.listCheckpoints(ListCheckpointsRequest.newBuilder().setJobId(unknown).build()),
                Status.Code.NOT_FOUND);

        var id = endedJob();
        assertCode(() -> stub.pauseJob(PauseJobRequest.newBuilder().setJobId(id).build()), Status.Code.FAILED_PRECONDITION);
        assertCode(() -> stub.resumeJob(ResumeJobRequest.newBuilder().setJobId(id).build()), Status.Code.FAILED_PRECONDITION);
        assertThat(catchThrowable(() -> stub.rollbackJob(RollbackJobRequest.newBuilder().setJobId(id).setStep(1).build())))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("has no checkpoint of step 1 (it has none yet)");
                });
        assertCode(() -> stub.forkJob(ForkJobRequest.newBuilder().setJobId(id).setStep(0).build()), Status.Code.NOT_FOUND);
        assertThat(stub.listCheckpoints(ListCheckpointsRequest.newBuilder().setJobId(id).build()).getCheckpointsList()).isEmpty();
        assertCode(() -> stub.sendMessage(SendMessageRequest.newBuilder().setJobId(id).setText(" ").build()),
                Status.Code.INVALID_ARGUMENT);
        assertCode(() -> stub.sendMessage(SendMessageRequest.newBuilder().setJobId(id).setText("x".repeat(16 * 1024 + 1))
                .build()), Status.Code.INVALID_ARGUMENT);

        // A message to a job that ended goes on with it: it is queued again (and fails again here, with no sandbox).
        var after = stub.sendMessage(SendMessageRequest.newBuilder().setJobId(id).setText("try again").build());
        assertThat(after.getStatus()).isIn("pending", "starting", "error");
        assertThat(after.getError()).as("the old error no longer stands").isEqualTo(
                after.getStatus().equals("error") ? after.getError() : "");
    }

    /** A job that has ended (in error: no sandbox), with its events recorded. */
    private String endedJob() {
        var stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        var id = stub.schedule(ScheduleRequest.newBuilder().setTask("Print hello").build()).getJobId();
        var deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!List.of("error", "complete", "cancelled").contains(stub.getJob(GetJobRequest.newBuilder().setJobId(id).build())
                .getStatus()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return id;
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
    }
}
