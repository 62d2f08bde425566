package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import io.nomadshell.gateway.auth.ApiKeys;

/**
 * Who may reach a job's pages on the API (events, screenshots, preview links and redirects): the
 * owner's API key in {@code Authorization}; with no keys configured, the one local owner. No link or
 * cookie counts here: a browser reaches a sandbox only on its preview origin, so the API origin holds
 * no credential a page could borrow. No key or a bad one → 401.
 */
public final class JobAccess {
    private final ApiKeys keys;

    public JobAccess(ApiKeys keys) {
        this.keys = requireNonNull(keys, "keys");
    }

    /** Decides whether the request gets in, and as whom. */
    public Decision check(HttpRequest req) {
        var authorization = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        return keys.authenticate(authorization).<Decision>map(Decision.Allowed::new)
                .orElseGet(() -> new Decision.Denied(JsonErrors.of(HttpStatus.UNAUTHORIZED,
                        Status.Code.UNAUTHENTICATED, ApiKeys.challenge(authorization))));
    }

    /** Whether a request gets in. */
    public sealed interface Decision {
        record Allowed(String owner) implements Decision {}

        record Denied(HttpResponse response) implements Decision {}
    }
}
