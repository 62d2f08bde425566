package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.seed.Uploads;
import io.nomadshell.gateway.http.UploadService;
import io.nomadshell.proto.v1.UploadChunk;
import io.nomadshell.proto.v1.UploadResponse;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * One {@code Upload} call: chunks go to disk as they come; at the client's end the archive is checked
 * on a virtual thread and answered. A refusal (past a cap, or on the first chunk that passes it) ends
 * the call at once and drops what arrived; so does the client's cancel.
 */
final class UploadCall implements StreamObserver<UploadChunk> {
    private final Uploads uploads;
    private final String owner;
    private final StreamObserver<UploadResponse> response;
    private Uploads.@Nullable Receipt receipt;
    private boolean ended;

    UploadCall(Uploads uploads, String owner, StreamObserver<UploadResponse> response) {
        this.uploads = requireNonNull(uploads, "uploads");
        this.owner = requireNonNull(owner, "owner");
        this.response = requireNonNull(response, "response");
    }

    @Override
    public synchronized void onNext(UploadChunk chunk) {
        if (ended) {
            return;
        }
        try {
            if (receipt == null) {
                receipt = uploads.receive(owner);
            }
            var data = chunk.getData().toByteArray();
            receipt.write(data, 0, data.length);
        } catch (JobException e) {
            end(JobStatuses.of(e).asRuntimeException());
        } catch (IOException e) {
            end(Status.UNAVAILABLE.withDescription("the upload could not be stored: " + e.getMessage()).asRuntimeException());
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        ended = true;
        drop();
    }

    @Override
    public synchronized void onCompleted() {
        if (ended) {
            return;
        }
        ended = true;
        var arrived = receipt;
        Thread.ofVirtual().name("upload-check").start(() -> {
            try (var whole = arrived != null ? arrived : uploads.receive(owner)) {
                response.onNext(UploadService.toProto(whole.finish()));
                response.onCompleted();
            } catch (JobException e) {
                response.onError(JobStatuses.of(e).asRuntimeException());
            } catch (IOException e) {
                response.onError(Status.UNAVAILABLE.withDescription("the upload could not be stored: " + e.getMessage())
                        .asRuntimeException());
            }
        });
    }

    private void end(RuntimeException error) {
        ended = true;
        drop();
        response.onError(error);
    }

    private void drop() {
        if (receipt != null) {
            try {
                receipt.close();
            } catch (IOException e) {
                // A temporary file left behind goes with the next expiry pass.
            }
        }
    }
}
