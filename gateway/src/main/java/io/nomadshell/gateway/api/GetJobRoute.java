package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import com.linecorp.armeria.common.util.Exceptions;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobMessages;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.proto.v1.Job;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.JobsProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * {@code GetJob}'s REST face ({@code GET /v1/jobs/{job_id}} and {@code GET /status/{job_id}}, the
 * paths its {@code google.api.http} rule names) answered on the event loop: one HGETALL on the shared
 * Redis connection with no thread waiting for it, and the answer the transcoded {@code GetJob} gives,
 * byte for byte (the same JSON marshaller, headers and error bodies). It decorates the gRPC service
 * itself, inside the server's decorators, so the one {@link AccessGuard} has let the request in first.
 * A job read again unchanged is answered with the JSON rendered the first time ({@link RenderedJobs}).
 *
 * <p>Whatever is not a plain GET of a well-formed job id (a query string, which transcoding binds to
 * request fields; another method; an id that is no job's) goes on to the transcoded {@code GetJob},
 * and so does a store that fails: those answer exactly as they always have.
 */
public final class GetJobRoute implements DecoratingHttpServiceFunction {
    private static final MethodDescriptor.Marshaller<Job> JOB = JobServiceGrpc.getGetJobMethod().getResponseMarshaller();
    private static final ObjectMapper ERRORS = new ObjectMapper();
    /** What transcoding sends with a job (gRPC's own headers included, as clients may have seen them). */
    private static final ResponseHeaders FOUND = ResponseHeaders.builder(HttpStatus.OK)
            .add(GrpcHeaderNames.GRPC_ENCODING, "identity")
            .add(GrpcHeaderNames.GRPC_ACCEPT_ENCODING, "gzip")
            .add(GrpcHeaderNames.GRPC_STATUS, "0")
            .contentType(MediaType.JSON_UTF_8)
            .build();
    private static final ResponseHeaders NOT_FOUND = ResponseHeaders.builder(HttpStatus.NOT_FOUND)
            .contentType(MediaType.JSON_UTF_8)
            .add(GrpcHeaderNames.GRPC_STATUS, Integer.toString(Status.Code.NOT_FOUND.value()))
            .build();

    private final JobManager jobs;
    private final GrpcJsonMarshaller json = RestJson.marshaller(JobServiceGrpc.getServiceDescriptor());
    private final RenderedJobs rendered = new RenderedJobs(this::render);
    private final List<String> prefixes = prefixes();

    private GetJobRoute(JobManager jobs) {
        this.jobs = requireNonNull(jobs, "jobs");
    }

    /** Wraps the gRPC service (inside the server's decorators, so behind the guard) with this route. */
    public static Function<? super HttpService, ? extends HttpService> inFrontOfTranscoding(JobManager jobs) {
        var route = new GetJobRoute(jobs);
        return transcoded -> transcoded.decorate(route);
    }

    /**
     * Where the job ids of {@code GetJob}'s paths start ({@code /v1/jobs/}, {@code /status/}): its
     * {@code google.api.http} rule, read from the .proto so the two cannot drift apart.
     */
    private static List<String> prefixes() {
        var rule = JobsProto.getDescriptor().findServiceByName("JobService").findMethodByName("GetJob")
                .getOptions().getExtension(AnnotationsProto.http);
        var templates = new ArrayList<String>();
        templates.add(rule.getGet());
        rule.getAdditionalBindingsList().stream().map(HttpRule::getGet).forEach(templates::add);
        return templates.stream().map(template -> {
            if (!template.endsWith("/{job_id}")) {
                throw new IllegalStateException("GetJob's path " + template + " does not end in /{job_id}");
            }
            return template.substring(0, template.length() - "{job_id}".length());
        }).toList();
    }

    @Override
    public HttpResponse serve(HttpService transcoded, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        var jobId = jobIdIn(ctx.path());
        if (jobId == null || req.method() != HttpMethod.GET || ctx.query() != null || !JobIds.isWellFormed(jobId)) {
            return transcoded.serve(ctx, req);
        }
        var owner = AccessGuard.requireOwner(ctx);
        return HttpResponse.of(jobs.getAsync(owner, jobId, ctx.eventLoop()).handle((job, error) -> {
            if (error == null) {
                return HttpResponse.of(FOUND, HttpData.wrap(rendered.json(job)));
            }
            if (Exceptions.peel(error) instanceof JobException refused && refused.reason() == JobException.Reason.NOT_FOUND) {
                return notFound(refused.getMessage());
            }
            // A store that failed (this may be its I/O thread): the transcoded GetJob answers, on the event loop.
            return HttpResponse.of(() -> {
                try {
                    return transcoded.serve(ctx, req);
                } catch (Exception e) {
                    return HttpResponse.ofFailure(e);
                }
            }, ctx.eventLoop());
        }));
    }

    /** The job id in a path of {@code GetJob}'s, or null for any other path. */
    private @Nullable String jobIdIn(String path) {
        for (var prefix : prefixes) {
            if (path.startsWith(prefix)) {
                return path.substring(prefix.length());
            }
        }
        return null;
    }

    /** The job's JSON as transcoding writes it. */
    private byte[] render(io.nomadshell.controlplane.job.Job job) {
        var body = new ByteArrayOutputStream(1024);
        try {
            json.serializeMessage(JOB, JobMessages.toProto(job), body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return body.toByteArray();
    }

    /** The body transcoding gives a NOT_FOUND status: code, grpc-code, message, in that order. */
    private static HttpResponse notFound(String message) {
        var body = ERRORS.createObjectNode()
                .put("code", Status.Code.NOT_FOUND.value())
                .put("grpc-code", Status.Code.NOT_FOUND.name())
                .put("message", message);
        try {
            return HttpResponse.of(NOT_FOUND, HttpData.wrap(ERRORS.writeValueAsBytes(body)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
