package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;

/**
 * The control plane's connections to one Redis: a shared multiplexed one for ordinary commands, and
 * dedicated ones for blocking reads (which would stall everyone else on the shared one).
 */
public final class RedisConnection implements AutoCloseable {
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> shared;

    private RedisConnection(RedisClient client) {
        this.client = client;
        this.shared = client.connect(Utf8Strings.CODEC);
    }

    /**
     * Connects to {@code redisUrl}, in lettuce's forms: {@code redis://[[user:]password@]host[:port][/db]},
     * {@code rediss://...} for TLS (the server's certificate is verified against the JVM's trust
     * store), or {@code redis-socket://[[user:]password@]/path/to/socket} (the embedded Redis). The
     * client name lets an operator tell replicas apart in {@code CLIENT LIST}.
     */
    public static RedisConnection connect(String redisUrl, String clientName) {
        requireNonNull(redisUrl, "redisUrl");
        var uri = RedisURI.create(redisUrl);
        uri.setClientName(requireNonNull(clientName, "clientName"));
        var client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // TCP keep-alive options mean nothing on a Unix socket (Netty warns of each).
                .socketOptions(uri.getSocket() == null ? SocketOptions.create() : SocketOptions.builder()
                        .keepAlive(SocketOptions.KeepAliveOptions.builder().enable(false).build())
                        .tcpUserTimeout(SocketOptions.TcpUserTimeoutOptions.builder().enable(false).build())
                        .build())
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(10)))
                .build());
        try {
            return new RedisConnection(client);
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
    }

    public RedisCommands<String, String> commands() {
        return shared.sync();
    }

    /** The same shared connection, for callers that must not hold a thread while Redis answers. */
    public RedisAsyncCommands<String, String> asyncCommands() {
        return shared.async();
    }

    /** A connection of its own for blocking commands; the caller closes it. */
    StatefulRedisConnection<String, String> dedicated() {
        var connection = client.connect(Utf8Strings.CODEC);
        // A blocking read may wait longer than the default command timeout.
        connection.setTimeout(Duration.ofMinutes(1));
        return connection;
    }

    StatefulRedisPubSubConnection<String, String> pubSub() {
        return client.connectPubSub(Utf8Strings.CODEC);
    }

    @Override
    public void close() {
        shared.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
