package io.nomadshell.cli;

import static java.util.Objects.requireNonNull;

import io.grpc.CallCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.nomadshell.proto.v1.JobServiceGrpc;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A gRPC connection to a Nomad Shell server, with the caller's API key on every call. */
final class JobClient implements AutoCloseable {
    private final ManagedChannel channel;
    private final JobServiceGrpc.JobServiceBlockingStub stub;
    private final JobServiceGrpc.JobServiceStub async;
    private final JobServiceGrpc.JobServiceBlockingV2Stub blockingStreams;

    JobClient(String target, @Nullable String apiKey) {
        this.channel = Grpc.newChannelBuilder(requireNonNull(target, "target"), InsecureChannelCredentials.create())
                .maxInboundMessageSize(8 * 1024 * 1024)
                .build();
        var stub = JobServiceGrpc.newBlockingStub(channel);
        var async = JobServiceGrpc.newStub(channel);
        boolean keyless = apiKey == null || apiKey.isEmpty();
        this.stub = keyless ? stub : stub.withCallCredentials(new BearerToken(apiKey));
        this.async = keyless ? async : async.withCallCredentials(new BearerToken(apiKey));
        var streams = JobServiceGrpc.newBlockingV2Stub(channel);
        this.blockingStreams = keyless ? streams : streams.withCallCredentials(new BearerToken(apiKey));
    }

    /** The streaming stub, for calls that send and receive at once (port forwarding). */
    JobServiceGrpc.JobServiceStub async() {
        return async;
    }

    /** The blocking stub for client streams (uploads): each write waits until the server can take it. */
    JobServiceGrpc.JobServiceBlockingV2Stub blockingStreams() {
        return blockingStreams;
    }

    JobServiceGrpc.JobServiceBlockingStub jobs() {
        return stub;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdown();
        if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
            channel.shutdownNow();
        }
    }

    private static final class BearerToken extends CallCredentials {
        private static final Metadata.Key<String> AUTHORIZATION =
                Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        private final String key;

        BearerToken(String key) {
            this.key = key;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
            var headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + key);
            applier.apply(headers);
        }
    }
}
