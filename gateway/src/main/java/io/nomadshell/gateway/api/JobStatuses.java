package io.nomadshell.gateway.api;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.gateway.http.RetryAfter;
import io.netty.util.AttributeKey;

/** A refused job request as the gRPC status that matches its reason. */
public final class JobStatuses {
    private static final AttributeKey<Boolean> OVER_QUOTA = AttributeKey.valueOf(JobStatuses.class, "OVER_QUOTA");

    private JobStatuses() {}

    /** Whether the request was refused for its key's limits (RESOURCE_EXHAUSTED that is 429, not 413). */
    public static boolean overQuota(RequestContext ctx) {
        return Boolean.TRUE.equals(ctx.attr(OVER_QUOTA));
    }

    static Status of(JobException e) {
        var code = switch (e.reason()) {
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case TOO_LARGE -> Status.RESOURCE_EXHAUSTED;
            case OVER_QUOTA -> {
                // The REST face tells it (429) from a cap (413) by this mark; the status alone cannot.
                var ctx = ServiceRequestContext.currentOrNull();
                if (ctx != null) {
                    ctx.setAttr(OVER_QUOTA, true);
                }
                RetryAfter.announce(e);
                yield Status.RESOURCE_EXHAUSTED;
            }
            case TIMED_OUT -> Status.DEADLINE_EXCEEDED;
        };
        return code.withDescription(e.getMessage());
    }
}
