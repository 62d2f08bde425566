package io.nomadshell.gateway.http;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.nomadshell.controlplane.job.JobException;
import java.time.Duration;
import java.time.Instant;

/** The {@code Retry-After} header of a refusal that says when a request may succeed again. */
public final class RetryAfter {
    private RetryAfter() {}

    /** Adds the header, in whole seconds from now (at least 1), to the current response, if {@code e} knows when. */
    public static void announce(JobException e) {
        var ctx = ServiceRequestContext.currentOrNull();
        var at = e.retryAt();
        if (ctx != null && at != null) {
            long millis = Duration.between(Instant.now(), at).toMillis();
            ctx.addAdditionalResponseHeader(HttpHeaderNames.RETRY_AFTER, Long.toString(Math.max(1, (millis + 999) / 1000)));
        }
    }
}
