package io.nomadshell.gateway.http;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.nomadshell.gateway.auth.AccessGuard;
import io.nomadshell.gateway.auth.ApiKeys;

/**
 * Who may reach a job's pages on the API (events, screenshots, preview links and redirects): the
 * owner {@link AccessGuard} authenticated by API key (with no keys configured, the one local owner).
 * No link or cookie counts here: a browser reaches a sandbox only on its preview origin, so the API
 * origin holds no credential a page could borrow.
 */
public final class JobAccess {

    /** Decides whether the request gets in, and as whom. */
    public Decision check(ServiceRequestContext ctx) {
        var owner = AccessGuard.owner(ctx);
        return owner != null ? new Decision.Allowed(owner)
                // Only when the guard is missing: it lets no request without an owner reach these routes.
                : new Decision.Denied(JsonErrors.of(HttpStatus.UNAUTHORIZED, Status.Code.UNAUTHENTICATED,
                        ApiKeys.challenge(null)));
    }

    /** Whether a request gets in. */
    public sealed interface Decision {
        record Allowed(String owner) implements Decision {}

        record Denied(HttpResponse response) implements Decision {}
    }
}
