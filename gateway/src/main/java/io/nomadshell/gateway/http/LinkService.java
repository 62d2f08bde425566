package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.gateway.auth.LinkTokens;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;

/**
 * {@code POST /v1/jobs/{job_id}/links[?ttl_seconds=N]}: a signed link to the job's live pages for a
 * browser, which cannot send the API key. Needs the owner's key; lasts {@value #DEFAULT_TTL_SECONDS}
 * seconds unless asked otherwise (at most {@value #MAX_TTL_SECONDS}).
 */
final class LinkService implements HttpService {
    static final long DEFAULT_TTL_SECONDS = 900;
    static final long MAX_TTL_SECONDS = 3600;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JobManager jobs;
    private final LinkTokens links;
    private final Clock clock;

    LinkService(JobManager jobs, LinkTokens links, Clock clock) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.links = requireNonNull(links, "links");
        this.clock = requireNonNull(clock, "clock");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        // A link is only ever made for a key's owner: the guard lets no link through to here.
        var owner = requireNonNull(AccessGuard.owner(ctx), "owner (is AccessGuard installed?)");
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        long ttl;
        try {
            var given = QueryParams.fromQueryString(ctx.query()).get("ttl_seconds");
            ttl = given == null ? DEFAULT_TTL_SECONDS : Long.parseLong(given);
        } catch (NumberFormatException e) {
            ttl = -1;
        }
        if (ttl < 1 || ttl > MAX_TTL_SECONDS) {
            return JsonErrors.of(HttpStatus.BAD_REQUEST, Status.Code.INVALID_ARGUMENT,
                    "ttl_seconds must be a whole number from 1 to " + MAX_TTL_SECONDS);
        }
        var lifetime = Duration.ofSeconds(ttl);
        // The body (if any) is read and ignored: a response sent before the request ends would reset it.
        return HttpResponse.of(req.aggregate().thenApplyAsync(ignored -> {
            try {
                jobs.get(owner, jobId);
            } catch (JobException e) {
                return JobErrors.of(e);
            }
            var expiry = clock.instant().plus(lifetime);
            var token = links.issue(jobId, owner, expiry);
            var base = "/v1/jobs/" + jobId;
            var body = new LinkedHashMap<String, Object>();
            body.put("token", token);
            body.put("expires_at", expiry.toString());
            body.put("events_url", base + "/events?token=" + token);
            body.put("desktop_url", base + "/desktop?token=" + token);
            body.put("jupyter_url", base + "/jupyter/?token=" + token);
            body.put("ports_url", base + "/ports/{port}/?token=" + token);
            try {
                return HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8, JSON.writeValueAsString(body));
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }, ctx.blockingTaskExecutor()));
    }
}
