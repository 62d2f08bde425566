package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Authenticates every call of the public API, framed gRPC and transcoded REST alike (Armeria passes
 * HTTP headers on as metadata), and puts the caller's owner id in the gRPC {@link Context}.
 */
public final class ApiKeyInterceptor implements ServerInterceptor {
    /** The authenticated owner of the current call. */
    public static final Context.Key<String> OWNER = Context.key("nomad-shell-owner");
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final ApiKeys keys;

    public ApiKeyInterceptor(ApiKeys keys) {
        this.keys = requireNonNull(keys, "keys");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        var authorization = headers.get(AUTHORIZATION);
        var owner = keys.authenticate(authorization);
        if (owner.isEmpty()) {
            call.close(Status.UNAUTHENTICATED.withDescription(ApiKeys.challenge(authorization)), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(OWNER, owner.get()), call, headers, next);
    }
}
