package io.nomadshell.gateway.auth;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Hands the owner {@link AccessGuard} authenticated to the gRPC services, framed and transcoded
 * alike, as {@link #OWNER} in the gRPC {@link Context}. It checks nothing itself; a call that reaches
 * it without an owner (the guard is not installed) is refused rather than served as nobody.
 */
public final class OwnerInterceptor implements ServerInterceptor {
    /** The authenticated owner of the current call. */
    public static final Context.Key<String> OWNER = Context.key("nomad-shell-owner");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        var ctx = ServiceRequestContext.currentOrNull();
        var owner = ctx == null ? null : AccessGuard.owner(ctx);
        if (owner == null) {
            call.close(Status.UNAUTHENTICATED.withDescription(ApiKeys.challenge(null)), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(OWNER, owner), call, headers, next);
    }
}
