package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.controlplane.tunnel.JupyterTokens;
import io.nomadshell.proto.v1.Welcome;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's end of {@code SandboxService.Attach}. {@link AttachAuthInterceptor} has checked
 * the call's credential; on the daemon's Hello this uses the credential up, answers with a Welcome
 * carrying a fresh resume secret, and hands the stream to the {@link SessionRegistry} as a
 * {@link DaemonSession}. A job with a live stream keeps it: another Attach is ALREADY_EXISTS.
 */
public final class AttachService extends SandboxServiceGrpc.SandboxServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(AttachService.class);

    private final AttachCredentials credentials;
    private final SessionRegistry sessions;
    private final JupyterTokens jupyterTokens;

    private AttachService(AttachCredentials credentials, SessionRegistry sessions, JupyterTokens jupyterTokens) {
        this.credentials = requireNonNull(credentials, "credentials");
        this.sessions = requireNonNull(sessions, "sessions");
        this.jupyterTokens = requireNonNull(jupyterTokens, "jupyterTokens");
    }

    /** The Attach service behind its credential check: what a sandbox-facing server serves. */
    public static ServerServiceDefinition definition(AttachCredentials credentials, SessionRegistry sessions,
            JupyterTokens jupyterTokens) {
        return ServerInterceptors.intercept(new AttachService(credentials, sessions, jupyterTokens),
                new AttachAuthInterceptor(credentials));
    }

    @Override
    public StreamObserver<DaemonMessage> attach(StreamObserver<ControlMessage> outbound) {
        // Read here, on the call's own context: the observer's methods may run elsewhere.
        var presented = AttachCredentials.PRESENTED.get();
        return new StreamObserver<>() {
            private @Nullable DaemonSession session;
            private boolean refused;

            @Override
            public void onNext(DaemonMessage message) {
                if (refused) {
                    return;
                }
                if (session != null) {
                    session.onMessage(message);
                    return;
                }
                var problem = admit(message);
                if (problem != null) {
                    refused = true;
                    log.warn("Refused a daemon: {}", problem.getDescription());
                    outbound.onError(problem.asRuntimeException());
                }
            }

            private @Nullable Status admit(DaemonMessage message) {
                if (presented == null) {
                    return Status.UNAUTHENTICATED.withDescription("the Attach call carried no checked credential");
                }
                if (!message.hasHello()) {
                    return Status.UNAUTHENTICATED.withDescription("the first message must be a Hello");
                }
                var jobId = presented.jobId();
                if (!sessions.isExpected(jobId)) {
                    return notWaiting(jobId);
                }
                if (sessions.current(jobId).isPresent()) {
                    return alreadyLive(jobId);
                }
                String resumeSecret;
                try {
                    resumeSecret = credentials.admit(presented);
                } catch (StatusException e) {
                    return e.getStatus();
                }
                var candidate = new DaemonSession(jobId, outbound);
                // Recorded, then welcomed, under the stream's lock: a tool call the job sends as soon as
                // the session is recorded waits for the Welcome, which always comes first.
                synchronized (outbound) {
                    switch (sessions.attached(candidate)) {
                        case YES -> { }
                        case NOT_EXPECTED -> {
                            return notWaiting(jobId);
                        }
                        case ALREADY_LIVE -> {
                            return alreadyLive(jobId);
                        }
                    }
                    outbound.onNext(ControlMessage.newBuilder()
                            .setWelcome(Welcome.newBuilder()
                                    .setJobId(jobId)
                                    .setHeartbeatIntervalMs((int) sessions.heartbeatInterval().toMillis())
                                    .setReattachWindowMs((int) sessions.reattachWindow().toMillis())
                                    .setResumeSecret(resumeSecret)
                                    .setJupyterToken(MemberIds.isWellFormed(jobId) ? "" : jupyterTokens.of(jobId)))
                            .build());
                }
                session = candidate;
                log.info("Daemon attached for job {} (version {})", jobId, message.getHello().getDaemonVersion());
                return null;
            }

            private Status notWaiting(String jobId) {
                return Status.FAILED_PRECONDITION.withDescription(
                        "job " + jobId + " is not waiting for a sandbox on this control plane");
            }

            private Status alreadyLive(String jobId) {
                return Status.ALREADY_EXISTS.withDescription(
                        "job " + jobId + " already has a live Attach stream; this one is refused");
            }

            @Override
            public void onError(Throwable t) {
                if (session != null) {
                    session.endedByDaemon("the sandbox connection broke: " + Status.fromThrowable(t).getCode());
                }
            }

            @Override
            public void onCompleted() {
                if (session != null) {
                    session.endedByDaemon("the sandbox closed its connection");
                } else if (!refused) {
                    outbound.onCompleted();
                }
            }
        };
    }
}
