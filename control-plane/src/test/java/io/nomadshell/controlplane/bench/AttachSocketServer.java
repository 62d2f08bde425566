package io.nomadshell.controlplane.bench;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The Attach service on a Unix socket, as the gateway serves it, without the gateway. */
final class AttachSocketServer implements AutoCloseable {
    private final Server server;
    private final EpollEventLoopGroup group;

    private AttachSocketServer(Server server, EpollEventLoopGroup group) {
        this.server = server;
        this.group = group;
    }

    static AttachSocketServer serve(Path socket, ServerServiceDefinition attach) throws IOException {
        Files.createDirectories(socket.getParent());
        var group = new EpollEventLoopGroup(2);
        var server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .addService(attach)
                .build()
                .start();
        return new AttachSocketServer(server, group);
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdown();
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
            server.shutdownNow();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
