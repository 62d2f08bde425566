package io.nomadshell.daemon.training;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import io.nomadshell.daemon.DaemonConfig;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.EditFileAction;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.Heartbeat;
import io.nomadshell.proto.v1.ListFilesAction;
import io.nomadshell.proto.v1.ReadFileAction;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.proto.v1.Shutdown;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.Welcome;
import io.nomadshell.proto.v1.WriteFileAction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The build's training run: runs the daemon command it is given (which records an AOT cache, e.g.
 * with {@code -XX:AOTCacheOutput=}) against a control plane of its own on a Unix socket in a
 * temporary directory, so the cache holds what a daemon does from start to attached and in its
 * everyday calls: Hello, Welcome, heartbeats, {@code exec}, the file tools, Shutdown. Tools that
 * start services (the desktop, Jupyter) are left out: their classes load when first called.
 *
 * <p>Run by agent-daemon's Maven build and by sandbox-image/build.sh:
 * {@code java -cp agent-daemon.jar io.nomadshell.daemon.training.AotTraining java [options] -jar agent-daemon.jar}.
 * Exits 0 when the daemon answered every call and ended on Shutdown with exit code 0.
 */
public final class AotTraining {

    private static final long WAIT_SECONDS = 60;
    private static final int HEARTBEAT_MS = 200;

    private AotTraining() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: AotTraining JAVA [OPTIONS...] -jar agent-daemon.jar");
            System.exit(2);
        }
        Path dir = Files.createTempDirectory("nomad-shell-aot-training-");
        try {
            train(List.of(args), dir);
        } finally {
            deleteTree(dir);
        }
    }

    private static void train(List<String> command, Path dir) throws Exception {
        Path socket = dir.resolve("attach.sock");
        Path workspace = Files.createDirectories(dir.resolve("workspace"));
        Path log = dir.resolve("daemon.log");
        BlockingQueue<DaemonMessage> received = new LinkedBlockingQueue<>();
        BlockingQueue<StreamObserver<ControlMessage>> streams = new LinkedBlockingQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .addService(new SandboxServiceGrpc.SandboxServiceImplBase() {
                    @Override
                    public StreamObserver<DaemonMessage> attach(StreamObserver<ControlMessage> toDaemon) {
                        streams.add(toDaemon);
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(DaemonMessage message) {
                                received.add(message);
                                // Like a control plane: a daemon that hears nothing for a few intervals
                                // drops the link, and a call on loaded cores can take that long.
                                if (message.hasHeartbeat()) {
                                    send(toDaemon, ControlMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                                            .setSentAtMs(System.currentTimeMillis())).build());
                                }
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {
                                synchronized (toDaemon) {
                                    toDaemon.onCompleted();
                                }
                            }
                        };
                    }
                })
                .build()
                .start();
        var builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put(DaemonConfig.ATTACH_ENV, "unix://" + socket);
        builder.environment().put(DaemonConfig.WORKSPACE_ENV, workspace.toString());
        builder.environment().remove(DaemonConfig.TOKEN_FILE_ENV);
        Process daemon = builder.start();
        try {
            try (var stdin = daemon.getOutputStream()) {
                stdin.write("training\n".getBytes(UTF_8));
            }
            var toDaemon = streams.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            if (toDaemon == null || !next(received).hasHello()) {
                throw failure("the daemon did not say Hello", log);
            }
            send(toDaemon, ControlMessage.newBuilder().setWelcome(Welcome.newBuilder()
                    .setJobId("training").setHeartbeatIntervalMs(HEARTBEAT_MS).setResumeSecret("training")).build());
            int n = 0;
            for (ToolCall.Builder call : everydayCalls()) {
                String id = "t" + n++;
                send(toDaemon, ControlMessage.newBuilder().setToolCall(call.setCallId(id)).build());
                ToolResult result = awaitResult(received, id, log);
                if (!result.getError().isEmpty()) {
                    throw failure("call " + id + " failed: " + result.getError(), log);
                }
            }
            // At least one heartbeat each way has passed by now (the calls took longer than one interval).
            send(toDaemon, ControlMessage.newBuilder().setShutdown(Shutdown.newBuilder().setReason("training done")).build());
            // The JVM writes the cache as it exits: the wait includes that.
            if (!daemon.waitFor(WAIT_SECONDS * 2, TimeUnit.SECONDS)) {
                throw failure("the daemon did not exit after Shutdown", log);
            }
            if (daemon.exitValue() != 0) {
                throw failure("the daemon exited with " + daemon.exitValue(), log);
            }
            System.out.println("AOT training: the daemon answered " + n + " calls and ended on Shutdown");
        } finally {
            daemon.destroyForcibly();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** A stream's sends come from this thread and from gRPC's (heartbeats): one at a time. */
    private static void send(StreamObserver<ControlMessage> toDaemon, ControlMessage message) {
        synchronized (toDaemon) {
            toDaemon.onNext(message);
        }
    }

    private static List<ToolCall.Builder> everydayCalls() {
        return List.of(
                ToolCall.newBuilder().setExec(ExecAction.newBuilder().setCommand("echo trained")),
                ToolCall.newBuilder().setWriteFile(WriteFileAction.newBuilder()
                        .setPath("notes.txt").setContent(ByteString.copyFromUtf8("one\ntwo\n"))),
                ToolCall.newBuilder().setReadFile(ReadFileAction.newBuilder().setPath("notes.txt")),
                ToolCall.newBuilder().setEditFile(EditFileAction.newBuilder()
                        .setPath("notes.txt").setReplace(EditFileAction.Replace.newBuilder().setOldText("two").setNewText("three"))),
                ToolCall.newBuilder().setListFiles(ListFilesAction.newBuilder()),
                ToolCall.newBuilder().setExec(ExecAction.newBuilder().setCommand("sleep 0.5")));
    }

    private static ToolResult awaitResult(BlockingQueue<DaemonMessage> received, String id, Path log)
            throws InterruptedException, IOException {
        while (true) {
            DaemonMessage message = next(received);
            if (message.getKindCase() == DaemonMessage.KindCase.KIND_NOT_SET) {
                throw failure("no result for call " + id, log);
            }
            if (message.hasToolResult() && message.getToolResult().getCallId().equals(id)) {
                return message.getToolResult();
            }
        }
    }

    /** The next message, or an empty one after the wait. */
    private static DaemonMessage next(BlockingQueue<DaemonMessage> received) throws InterruptedException {
        DaemonMessage message = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        return message == null ? DaemonMessage.getDefaultInstance() : message;
    }

    private static IllegalStateException failure(String what, Path log) throws IOException {
        return new IllegalStateException("AOT training failed: " + what + "; the daemon's log:\n"
                + (Files.exists(log) ? Files.readString(log) : "(none)"));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
