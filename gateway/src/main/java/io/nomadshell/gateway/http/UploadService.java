package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.seed.Upload;
import io.nomadshell.controlplane.seed.Uploads;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.proto.v1.UploadResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/uploads}: the raw body is a zip or tar.gz archive (by its bytes, whatever its
 * content type says) for a later schedule to seed a job with ({@code "seed": {"upload_id": ...}}). It is
 * written to disk as it arrives, on a virtual thread, then checked whole; the answer is the JSON of
 * {@code UploadResponse}, or 400 naming the entry refused, or 413 past a cap. The upload belongs to the
 * owner {@link AccessGuard} authenticated.
 */
public final class UploadService implements HttpService {
    private static final JsonFormat.Printer JSON = JsonFormat.printer().preservingProtoFieldNames();

    private final Uploads uploads;

    public UploadService(Uploads uploads) {
        this.uploads = requireNonNull(uploads, "uploads");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var owner = AccessGuard.requireOwner(ctx);
        var type = req.contentType();
        if (type != null && type.is(MediaType.MULTIPART_FORM_DATA)) {
            return JsonErrors.of(HttpStatus.UNSUPPORTED_MEDIA_TYPE, Status.Code.INVALID_ARGUMENT,
                    "send the archive itself as the body (Content-Type: application/zip or application/gzip), not as a form");
        }
        var body = req.toInputStream(object -> object instanceof HttpData data ? data : HttpData.empty());
        var answer = new CompletableFuture<HttpResponse>();
        Runnable receiving = () -> answer.complete(receive(owner, body));
        Thread.ofVirtual().name("upload").start(ctx.makeContextAware(receiving));
        return HttpResponse.of(answer);
    }

    private HttpResponse receive(String owner, InputStream body) {
        try (body; var receipt = uploads.receive(owner)) {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = body.read(buffer)) > 0) {
                receipt.write(buffer, 0, read);
            }
            return HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8, JSON.print(toProto(receipt.finish())));
        } catch (JobException e) {
            return JobErrors.of(e);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            return JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT,
                    "the upload did not arrive whole: " + e.getMessage());
        }
    }

    /** The answer of both faces, REST and gRPC. */
    public static UploadResponse toProto(Upload upload) {
        return UploadResponse.newBuilder()
                .setUploadId(upload.id())
                .setFormat(upload.contents().format().wireName())
                .setFiles(upload.contents().files())
                .setBytes(upload.contents().bytes())
                .setExpiresAt(com.google.protobuf.Timestamp.newBuilder()
                        .setSeconds(upload.expiresAt().getEpochSecond()).setNanos(upload.expiresAt().getNano()))
                .build();
    }
}
