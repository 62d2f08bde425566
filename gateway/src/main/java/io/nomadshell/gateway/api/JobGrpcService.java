package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.SandboxRequest;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.auth.ApiKeyInterceptor;
import io.nomadshell.proto.v1.ArtifactChunk;
import io.nomadshell.proto.v1.CancelJobRequest;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.Job;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ListJobsRequest;
import io.nomadshell.proto.v1.ListJobsResponse;
import io.nomadshell.proto.v1.PortForwardRequest;
import io.nomadshell.proto.v1.PortForwardResponse;
import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.proto.v1.ScheduleResponse;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.io.IOException;
import java.nio.file.Files;

/**
 * {@code JobService}: maps requests to {@link JobManager} calls and results back. Errors are thrown
 * as {@link io.nomadshell.controlplane.job.JobException} and turned into statuses by the server.
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
    public void schedule(ScheduleRequest request, StreamObserver<ScheduleResponse> response) {
        var key = request.getIdempotencyKey().isEmpty() ? null : request.getIdempotencyKey();
        var sandbox = new SandboxRequest(request.getCpuMhz(), request.getMemoryMb(), request.getTimeoutSeconds(),
                request.getNetwork(), request.getEgress().getAllowList(), request.getDiskMb());
        var job = jobs.schedule(owner(), request.getTask(), sandbox, key);
        response.onNext(ScheduleResponse.newBuilder().setJobId(job.id()).setStatus(job.status().wireName()).build());
        response.onCompleted();
    }

    @Override
    public void getJob(GetJobRequest request, StreamObserver<Job> response) {
        response.onNext(JobMessages.toProto(jobs.get(owner(), request.getJobId())));
        response.onCompleted();
    }

    @Override
    public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> response) {
        var page = jobs.list(owner(), request.getPageSize(), request.getPageToken());
        var message = ListJobsResponse.newBuilder().setNextPageToken(page.nextPageToken());
        page.jobs().forEach(job -> message.addJobs(JobMessages.toProto(job)));
        response.onNext(message.build());
        response.onCompleted();
    }

    @Override
    public void cancelJob(CancelJobRequest request, StreamObserver<Job> response) {
        response.onNext(JobMessages.toProto(jobs.cancel(owner(), request.getJobId())));
        response.onCompleted();
    }

    @Override
    public void watchJob(WatchJobRequest request, StreamObserver<JobEvent> response) {
        var call = (ServerCallStreamObserver<JobEvent>) response;
        try {
            jobs.watch(owner(), request.getJobId(), request.getAfterSequence(), response::onNext, call::isCancelled);
            if (!call.isCancelled()) {
                response.onCompleted();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.onError(Status.CANCELLED.withDescription("the server is shutting down").asRuntimeException());
        }
    }

    @Override
    public void downloadArtifact(DownloadArtifactRequest request, StreamObserver<ArtifactChunk> response) {
        var path = jobs.artifact(owner(), request.getJobId());
        var call = (ServerCallStreamObserver<ArtifactChunk>) response;
        try (var in = Files.newInputStream(path)) {
            var buffer = new byte[CHUNK_BYTES];
            int read;
            while ((read = in.readNBytes(buffer, 0, buffer.length)) > 0 && !call.isCancelled()) {
                response.onNext(ArtifactChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, read)).build());
            }
        } catch (IOException e) {
            response.onError(Status.UNAVAILABLE.withDescription("the zip could not be read").asRuntimeException());
            return;
        }
        response.onCompleted();
    }

    @Override
    public StreamObserver<PortForwardRequest> portForward(StreamObserver<PortForwardResponse> response) {
        return new PortForwardCall(jobs, tunnels, owner(), (ServerCallStreamObserver<PortForwardResponse>) response);
    }

    private static String owner() {
        return requireNonNull(ApiKeyInterceptor.OWNER.get(), "owner (is ApiKeyInterceptor installed?)");
    }
}
