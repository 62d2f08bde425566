package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks an Attach call's credential before the stream is accepted: a call without a good one is
 * closed UNAUTHENTICATED before any message of it is read; a good one reaches {@link AttachService}
 * with the checked credential in the gRPC {@link Context}.
 */
public final class AttachAuthInterceptor implements ServerInterceptor {
    private static final Logger log = LoggerFactory.getLogger(AttachAuthInterceptor.class);

    private final AttachCredentials credentials;

    public AttachAuthInterceptor(AttachCredentials credentials) {
        this.credentials = requireNonNull(credentials, "credentials");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        AttachCredentials.Presented presented;
        try {
            presented = credentials.check(headers.get(AttachCredentials.AUTHORIZATION));
        } catch (StatusException e) {
            log.warn("Refused an Attach call: {}", e.getStatus().getDescription());
            call.close(e.getStatus(), new Metadata());
            return new ServerCall.Listener<>() {};
        } catch (RuntimeException e) {
            // Redis unreachable, most likely: the daemon retries later.
            log.warn("Could not check an Attach credential: {}", e.toString());
            call.close(Status.UNAVAILABLE.withDescription("the control plane cannot check credentials now"),
                    new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(AttachCredentials.PRESENTED, presented),
                call, headers, next);
    }
}
