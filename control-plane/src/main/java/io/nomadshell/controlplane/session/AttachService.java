package io.nomadshell.controlplane.session;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
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
 * The control plane's end of {@code SandboxService.Attach}: checks the daemon's Hello and token, then
 * hands the stream to the {@link SessionRegistry} as a {@link DaemonSession}.
 */
public final class AttachService extends SandboxServiceGrpc.SandboxServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(AttachService.class);

    private final JobTokens tokens;
    private final SessionRegistry sessions;
    private final JupyterTokens jupyterTokens;

    public AttachService(JobTokens tokens, SessionRegistry sessions, JupyterTokens jupyterTokens) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.sessions = requireNonNull(sessions, "sessions");
        this.jupyterTokens = requireNonNull(jupyterTokens, "jupyterTokens");
    }

    @Override
    public StreamObserver<DaemonMessage> attach(StreamObserver<ControlMessage> outbound) {
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
                if (!message.hasHello()) {
                    return Status.UNAUTHENTICATED.withDescription("the first message must be a Hello with a token");
                }
                String jobId;
                try {
                    jobId = tokens.verify(message.getHello().getToken());
                } catch (JobTokens.InvalidTokenException e) {
                    return Status.UNAUTHENTICATED.withDescription(e.getMessage());
                }
                if (!sessions.isExpected(jobId)) {
                    return notWaiting(jobId);
                }
                var candidate = new DaemonSession(jobId, outbound);
                synchronized (outbound) {
                    outbound.onNext(ControlMessage.newBuilder()
                            .setWelcome(Welcome.newBuilder()
                                    .setJobId(jobId)
                                    .setHeartbeatIntervalMs((int) sessions.heartbeatInterval().toMillis())
                                    .setJupyterToken(jupyterTokens.of(jobId)))
                            .build());
                }
                if (!sessions.attached(candidate)) {
                    return notWaiting(jobId);
                }
                session = candidate;
                log.info("Daemon attached for job {} (version {})", jobId, message.getHello().getDaemonVersion());
                return null;
            }

            private Status notWaiting(String jobId) {
                return Status.FAILED_PRECONDITION.withDescription(
                        "job " + jobId + " is not waiting for a sandbox on this control plane");
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
