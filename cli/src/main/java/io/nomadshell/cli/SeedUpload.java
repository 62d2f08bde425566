package io.nomadshell.cli;

import com.google.protobuf.ByteString;
import io.grpc.StatusException;
import io.nomadshell.proto.v1.UploadChunk;
import io.nomadshell.proto.v1.UploadResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Sends a local zip or tar.gz to the server's Upload call, for a job to be seeded with; answers what it holds. */
final class SeedUpload {
    private static final int CHUNK_BYTES = 256 * 1024;

    private SeedUpload() {}

    static UploadResponse send(JobClient connection, Path archive) throws IOException, InterruptedException {
        var call = connection.blockingStreams().upload();
        try (var in = Files.newInputStream(archive)) {
            var buffer = new byte[CHUNK_BYTES];
            int read;
            while ((read = in.readNBytes(buffer, 0, buffer.length)) > 0) {
                // False once the server has ended the call (a refusal past the cap): its answer says why.
                if (!call.write(UploadChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, read)).build())) {
                    break;
                }
            }
            call.halfClose();
            return call.read();
        } catch (NoSuchFileException e) {
            call.cancel("no such file", e);
            throw new UserError("no such archive to seed the job with: " + archive);
        } catch (StatusException e) {
            throw e.getStatus().asRuntimeException(e.getTrailers()); // NomadShell prints its description
        }
    }
}
