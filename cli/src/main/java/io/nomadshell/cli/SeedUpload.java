package io.nomadshell.cli;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.UploadChunk;
import io.nomadshell.proto.v1.UploadResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** Sends a local zip or tar.gz to the server's Upload call, for a job to be seeded with; answers what it holds. */
final class SeedUpload {
    private static final int CHUNK_BYTES = 256 * 1024;

    private SeedUpload() {}

    static UploadResponse send(JobClient connection, Path archive) throws IOException, InterruptedException {
        var answer = new CompletableFuture<UploadResponse>();
        var chunks = connection.async().upload(new StreamObserver<>() {
            @Override
            public void onNext(UploadResponse value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        try (var in = Files.newInputStream(archive)) {
            var buffer = new byte[CHUNK_BYTES];
            int read;
            // A refusal mid-way (past the cap) ends the call: stop sending then.
            while (!answer.isDone() && (read = in.readNBytes(buffer, 0, buffer.length)) > 0) {
                chunks.onNext(UploadChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, read)).build());
            }
        } catch (NoSuchFileException e) {
            chunks.onError(e);
            throw new UserError("no such archive to seed the job with: " + archive);
        }
        chunks.onCompleted();
        try {
            return answer.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime; // a gRPC status: NomadShell prints its description
            }
            throw new IOException(e.getCause());
        }
    }
}
