package io.nomadshell.gateway.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.nomadshell.gateway.auth.OwnerInterceptor;

/** Stands in for the access guard in in-process tests: every call is {@code owner}'s. */
final class AsOwner implements ServerInterceptor {
    private final String owner;

    AsOwner(String owner) {
        this.owner = owner;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(OwnerInterceptor.OWNER, owner), call, headers, next);
    }
}
