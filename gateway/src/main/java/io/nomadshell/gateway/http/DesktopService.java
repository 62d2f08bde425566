package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * {@code GET /v1/jobs/{job_id}/desktop}: sends the browser to noVNC, served by websockify on
 * {@value #NOVNC_PORT} in the sandbox, through the port proxy, with its WebSocket pointed back
 * through the proxy too. A signed link in the query becomes a cookie on the way, so noVNC's own
 * requests get in.
 */
final class DesktopService implements HttpService {
    /** websockify (serving noVNC) inside the sandbox; it bridges to x11vnc on 5900. */
    static final int NOVNC_PORT = 6080;

    private final JobAccess access;

    DesktopService(JobAccess access) {
        this.access = requireNonNull(access, "access");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var jobId = requireNonNull(ctx.pathParam("job_id"), "job_id");
        var decision = access.check(ctx, req, jobId);
        if (decision instanceof JobAccess.Decision.Denied denied) {
            return denied.response();
        }
        var allowed = (JobAccess.Decision.Allowed) decision;
        var ports = "v1/jobs/" + jobId + "/ports/" + NOVNC_PORT;
        var headers = ResponseHeaders.builder(HttpStatus.FOUND)
                .set(HttpHeaderNames.LOCATION, "/" + ports + "/vnc.html?autoconnect=true&resize=remote&path=" + ports + "/websockify");
        if (allowed.cookie() != null) {
            headers.cookie(requireNonNull(allowed.cookie(), "cookie"));
        }
        return HttpResponse.of(headers.build());
    }
}
