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

    JobClient(String target, @Nullable String apiKey) {
        this.channel = Grpc.newChannelBuilder(requireNonNull(target, "target"), InsecureChannelCredentials.create())
                .maxInboundMessageSize(8 * 1024 * 1024)
                .build();
        var stub = JobServiceGrpc.newBlockingStub(channel);
        this.stub = apiKey == null || apiKey.isEmpty() ? stub : stub.withCallCredentials(new BearerToken(apiKey));
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
