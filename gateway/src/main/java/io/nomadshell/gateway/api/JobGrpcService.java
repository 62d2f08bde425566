package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.Blocking;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobMessages;
import io.nomadshell.controlplane.job.SandboxRequest;
import io.nomadshell.controlplane.trace.Traceparent;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.auth.OwnerInterceptor;
import io.nomadshell.proto.v1.ArtifactChunk;
import io.nomadshell.proto.v1.CancelJobRequest;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.ForkJobRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.GetUsageRequest;
import io.nomadshell.proto.v1.Usage;
import io.nomadshell.proto.v1.Job;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ListCheckpointsRequest;
import io.nomadshell.proto.v1.ListCheckpointsResponse;
import io.nomadshell.proto.v1.ListJobsRequest;
import io.nomadshell.proto.v1.ListJobsResponse;
import io.nomadshell.proto.v1.PauseJobRequest;
import io.nomadshell.proto.v1.PortForwardRequest;
import io.nomadshell.proto.v1.PortForwardResponse;
import io.nomadshell.proto.v1.ResumeJobRequest;
import io.nomadshell.proto.v1.RollbackJobRequest;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.proto.v1.ScheduleResponse;
import io.nomadshell.proto.v1.SendMessageRequest;
import io.nomadshell.proto.v1.UploadChunk;
import io.nomadshell.proto.v1.UploadResponse;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.opentelemetry.context.Context;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * {@code JobService}: maps requests to {@link JobManager} calls and results back; a refused request
 * ({@link JobException}) becomes the matching status ({@link JobStatuses}). The caller is the owner
 * the interceptor put in the context ({@link OwnerInterceptor#OWNER}).
 *
 * <p>Only the unary calls, which wait for Redis, run on the blocking pool ({@link Blocking}); the
 * streams' handlers run on the event loop and return at once. The server streams ({@code WatchJob},
 * {@code DownloadArtifact}) each send from a virtual thread of their own and wait for the client
 * before each message ({@link StreamGate}): a client that does not read parks its own sender and
 * holds at most one message. The watchers of one job share one reader of its events.
 */
public final class JobGrpcService extends JobServiceGrpc.JobServiceImplBase {
    private static final int CHUNK_BYTES = 256 * 1024;

    private final JobManager jobs;
    private final JobTunnels tunnels;

    public JobGrpcService(JobManager jobs, JobTunnels tunnels) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.tunnels = requireNonNull(tunnels, "tunnels");
    }

    @Override
    @Blocking
    public void schedule(ScheduleRequest request, StreamObserver<ScheduleResponse> response) {
        var key = request.getIdempotencyKey().isEmpty() ? null : request.getIdempotencyKey();
        var sandbox = new SandboxRequest(request.getCpuMhz(), request.getMemoryMb(), request.getTimeoutSeconds(),
                request.getNetwork(), request.getEgress().getAllowList(), request.getDiskMb());
        answer(response, () -> {
            try (var ignored = callersTrace().makeCurrent()) {
                var job = jobs.schedule(owner(), request.getTask(), sandbox, key, SeedSources.of(request.getSeed()),
                        new JobManager.CallbackRequest(request.getCallbackUrl(), request.getCallbackEvents()));
                return ScheduleResponse.newBuilder().setJobId(job.id()).setStatus(job.status().wireName()).build();
            }
        });
    }

    /**
     * The trace of a caller that sent a W3C {@code traceparent} header (gRPC metadata and REST headers
     * alike are the HTTP request's): the job's trace becomes part of it.
     */
    private static Context callersTrace() {
        var ctx = ServiceRequestContext.currentOrNull();
        return Traceparent.parse(ctx == null ? null : ctx.request().headers().get("traceparent"));
    }

    @Override
    @Blocking
    public void getUsage(GetUsageRequest request, StreamObserver<Usage> response) {
        answer(response, () -> UsageMessages.toProto(jobs.usage(owner())));
    }

    @Override
    @Blocking
    public void getJob(GetJobRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.get(owner(), request.getJobId())));
    }

    @Override
    @Blocking
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> response) {
        answer(response, () -> {
            var page = jobs.list(owner(), request.getPageSize(), request.getPageToken());
            var message = ListJobsResponse.newBuilder().setNextPageToken(page.nextPageToken());
            page.jobs().forEach(job -> message.addJobs(JobMessages.toProto(job)));
            return message.build();
        });
    }

    @Override
    @Blocking
    public void cancelJob(CancelJobRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.cancel(owner(), request.getJobId())));
    }

    @Override
    @Blocking
    public void sendMessage(SendMessageRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.say(owner(), request.getJobId(), request.getText())));
    }

    @Override
    @Blocking
    public void pauseJob(PauseJobRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.pause(owner(), request.getJobId())));
    }

    @Override
    @Blocking
    public void resumeJob(ResumeJobRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.resume(owner(), request.getJobId())));
    }

    @Override
    @Blocking
    public void rollbackJob(RollbackJobRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.rollback(owner(), request.getJobId(), request.getStep())));
    }

    @Override
    @Blocking
    public void forkJob(ForkJobRequest request, StreamObserver<Job> response) {
        answer(response, () -> JobMessages.toProto(jobs.fork(owner(), request.getJobId(), request.getStep(),
                request.getText().isEmpty() ? null : request.getText())));
    }

    @Override
    @Blocking
    public void listCheckpoints(ListCheckpointsRequest request, StreamObserver<ListCheckpointsResponse> response) {
        answer(response, () -> {
            var message = ListCheckpointsResponse.newBuilder();
            jobs.checkpoints(owner(), request.getJobId()).forEach(checkpoint -> message.addCheckpoints(checkpoint.toProto()));
            return message.build();
        });
    }

    @Override
    public void watchJob(WatchJobRequest request, StreamObserver<JobEvent> response) {
        var call = (ServerCallStreamObserver<JobEvent>) response;
        var gate = new StreamGate(call);
        var owner = owner();
        var jobId = request.getJobId();
        Thread.ofVirtual().name("watch-" + jobId).start(() -> stream(response, () -> {
            jobs.watch(owner, jobId, request.getAfterSequence(), event -> {
                if (awaitReady(gate)) {
                    response.onNext(event);
                }
            }, gate::cancelled);
            return !gate.cancelled();
        }));
    }

    @Override
    public void downloadArtifact(DownloadArtifactRequest request, StreamObserver<ArtifactChunk> response) {
        var call = (ServerCallStreamObserver<ArtifactChunk>) response;
        var gate = new StreamGate(call);
        var owner = owner();
        var jobId = request.getJobId();
        Thread.ofVirtual().name("download-" + jobId).start(() -> stream(response, () -> {
            // From this replica's disk or carried from another's, a chunk at a time as the client takes them.
            try (var zip = jobs.artifact(owner, jobId); var in = zip.open()) {
                var buffer = new byte[CHUNK_BYTES];
                int read;
                while ((read = in.readNBytes(buffer, 0, buffer.length)) > 0) {
                    if (!gate.awaitReady()) {
                        return false;
                    }
                    response.onNext(ArtifactChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, read)).build());
                }
            } catch (IOException e) {
                throw new StatusRuntimeException(Status.UNAVAILABLE.withDescription(
                        "the zip of job " + jobId + " could not be read: " + e.getMessage()));
            }
            return true;
        }));
    }

    @Override
    public StreamObserver<PortForwardRequest> portForward(StreamObserver<PortForwardResponse> response) {
        return new PortForwardCall(jobs, tunnels, owner(), (ServerCallStreamObserver<PortForwardResponse>) response);
    }

    @Override
    public StreamObserver<UploadChunk> upload(StreamObserver<UploadResponse> response) {
        return new UploadCall(jobs.uploads(), owner(), response);
    }

    private static String owner() {
        return requireNonNull(OwnerInterceptor.OWNER.get(), "owner (is OwnerInterceptor installed?)");
    }

    private static <T> void answer(StreamObserver<T> response, Supplier<T> call) {
        T value;
        try {
            value = call.get();
        } catch (JobException e) {
            response.onError(JobStatuses.of(e).asRuntimeException());
            return;
        }
        response.onNext(value);
        response.onCompleted();
    }

    /** Runs a server stream's body; it says whether the client is still there to hear the end. */
    private static void stream(StreamObserver<?> response, StreamBody body) {
        try {
            if (body.run()) {
                response.onCompleted();
            }
        } catch (JobException e) {
            response.onError(JobStatuses.of(e).asRuntimeException());
        } catch (StatusRuntimeException e) {
            response.onError(e);
        } catch (InterruptedException e) {
            response.onError(Status.CANCELLED.withDescription("the server is shutting down").asRuntimeException());
        } catch (RuntimeException e) {
            response.onError(Status.INTERNAL.withDescription("the stream failed: " + e.getMessage()).asRuntimeException());
        }
    }

    private static boolean awaitReady(StreamGate gate) {
        try {
            return gate.awaitReady();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @FunctionalInterface
    private interface StreamBody {
        boolean run() throws InterruptedException;
    }
}
