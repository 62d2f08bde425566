package io.nomadshell.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.proto.v1.Shutdown;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.Welcome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A control plane for tests: a real gRPC server on a Unix domain socket whose Attach streams the
 * test drives by hand, one {@link PeerStream} per stream the daemon opens.
 */
final class TestControlPlane implements AutoCloseable {

    private static final long WAIT_SECONDS = 10;
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> AUTHORIZATION_SEEN = Context.key("authorization");

    private final Path socket;
    private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    private final BlockingQueue<PeerStream> streams = new LinkedBlockingQueue<>();
    private final AtomicInteger attempts = new AtomicInteger();
    private final Server server;

    TestControlPlane(Path socket) throws IOException {
        this.socket = socket;
        this.server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .addService(ServerInterceptors.intercept(new SandboxServiceGrpc.SandboxServiceImplBase() {
                    @Override
                    public StreamObserver<DaemonMessage> attach(StreamObserver<ControlMessage> toDaemon) {
                        attempts.incrementAndGet();
                        PeerStream stream = new PeerStream(toDaemon, AUTHORIZATION_SEEN.get());
                        streams.add(stream);
                        return stream;
                    }
                }, new ServerInterceptor() {
                    @Override
                    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                            ServerCallHandler<Q, R> next) {
                        var authorization = headers.get(AUTHORIZATION);
                        return Contexts.interceptCall(Context.current().withValue(AUTHORIZATION_SEEN,
                                authorization == null ? "" : authorization), call, headers, next);
                    }
                }))
                .build()
                .start();
    }

    String target() {
        return "unix://" + socket;
    }

    /** The Attach streams the daemon has opened so far. */
    int attempts() {
        return attempts.get();
    }

    /** The next stream the daemon opens; fails the test if none comes. */
    PeerStream nextStream() throws InterruptedException {
        PeerStream stream = streams.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertThat(stream).as("an Attach stream from the daemon").isNotNull();
        return stream;
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** The control plane's end of one Attach stream. */
    static final class PeerStream implements StreamObserver<DaemonMessage> {

        private final StreamObserver<ControlMessage> toDaemon;
        /** The credential the daemon opened this stream with (its authorization header). */
        final String authorization;
        private final BlockingQueue<DaemonMessage> received = new LinkedBlockingQueue<>();
        /** Completes with OK when the daemon half-closes, or with the status it failed with. */
        final CompletableFuture<Status> ended = new CompletableFuture<>();

        PeerStream(StreamObserver<ControlMessage> toDaemon, String authorization) {
            this.toDaemon = toDaemon;
            this.authorization = authorization;
        }

        @Override
        public void onNext(DaemonMessage message) {
            received.add(message);
        }

        @Override
        public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
        }

        /** The daemon half-closed: end the stream from this side too, as a real control plane does. */
        @Override
        public synchronized void onCompleted() {
            ended.complete(Status.OK);
            toDaemon.onCompleted();
        }

        /** The next message from the daemon; fails the test if none comes. */
        DaemonMessage next() throws InterruptedException {
            DaemonMessage message = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertThat(message).as("a message from the daemon").isNotNull();
            return message;
        }

        /** Everything received and not yet taken, without waiting. */
        List<DaemonMessage> drain() {
            List<DaemonMessage> messages = new ArrayList<>();
            received.drainTo(messages);
            return messages;
        }

        Hello awaitHello() throws InterruptedException {
            DaemonMessage message = next();
            assertThat(message.hasHello()).as("the first message is a Hello: %s", message).isTrue();
            return message.getHello();
        }

        /** Waits for the result of {@code callId}, collecting its events; skips heartbeats. */
        ToolResult awaitResult(String callId, List<ToolEvent> events) throws InterruptedException {
            while (true) {
                DaemonMessage message = next();
                if (message.hasToolEvent() && message.getToolEvent().getCallId().equals(callId)) {
                    events.add(message.getToolEvent());
                } else if (message.hasToolResult() && message.getToolResult().getCallId().equals(callId)) {
                    return message.getToolResult();
                }
            }
        }

        /** Waits for the next tool event, skipping heartbeats. */
        ToolEvent awaitEvent() throws InterruptedException {
            while (true) {
                DaemonMessage message = next();
                if (message.hasToolEvent()) {
                    return message.getToolEvent();
                }
            }
        }

        void welcome(int heartbeatIntervalMs) {
            welcome(heartbeatIntervalMs, "");
        }

        void welcome(int heartbeatIntervalMs, String resumeSecret) {
            welcome(heartbeatIntervalMs, resumeSecret, 0);
        }

        void welcome(int heartbeatIntervalMs, String resumeSecret, int reattachWindowMs) {
            send(ControlMessage.newBuilder().setWelcome(Welcome.newBuilder().setJobId("job-1")
                    .setHeartbeatIntervalMs(heartbeatIntervalMs).setResumeSecret(resumeSecret)
                    .setReattachWindowMs(reattachWindowMs)).build());
        }

        void call(ToolCall call) {
            send(ControlMessage.newBuilder().setToolCall(call).build());
        }

        void shutdown(String reason) {
            send(ControlMessage.newBuilder().setShutdown(Shutdown.newBuilder().setReason(reason)).build());
        }

        synchronized void fail(Status status) {
            toDaemon.onError(status.asRuntimeException());
        }

        private synchronized void send(ControlMessage message) {
            toDaemon.onNext(message);
        }
    }
}
