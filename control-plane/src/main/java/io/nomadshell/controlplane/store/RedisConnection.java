package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's connections to one Redis: a shared multiplexed one for ordinary commands, and
 * dedicated ones for blocking reads (which would stall everyone else on the shared one).
 *
 * <p>Behind a {@code redis-sentinel://} URL the Redis is whichever server the Sentinels call the
 * primary: every connection (and every reconnection) asks them. A failover leaves our connections on
 * the old primary until Sentinel demotes it, seconds later; a write it refuses meanwhile (READONLY, or
 * NOREPLICAS once its replica has gone, see docs/cluster/redis.md) drops them, so they come back to
 * the new one, and {@link #write} tries the write again there.
 */
public final class RedisConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisConnection.class);
    /**
     * How long a write waits for a primary that takes it: about 2 s with the Sentinels set up as
     * docs/cluster/redis.md says; without their reconfig script, until the old primary is back as the
     * new one's replica (about 12 s).
     */
    static final Duration FAILOVER_WAIT = Duration.ofSeconds(20);
    private static final String NO_PRIMARY = "the redis-sentinel:// URL names no primary: add the name the "
            + "Sentinels monitor it under after '#', as in redis-sentinel://host1:26379,host2:26379#mymaster";
    /**
     * The longest lettuce waits between two tries to reconnect. Its default doubles up to 30 s: after a
     * primary died, the Sentinels name the next one a few seconds later, and a reconnect then still
     * waited up to as long again, while every write (lease renewals too) waited in its queue.
     */
    static final Duration RECONNECT_AT_MOST = Duration.ofMillis(250);
    private static final Duration FIRST_PAUSE = Duration.ofMillis(50);
    private static final Duration LONGEST_PAUSE = Duration.ofMillis(500);

    private final ClientResources resources;
    private final RedisClient client;
    private final String clientName;
    private final StatefulRedisConnection<String, String> shared;
    private final Object dropping = new Object();
    private long lastDrop;
    private long lastLog = System.nanoTime() - FAILOVER_WAIT.toNanos() - 1;

    private RedisConnection(ClientResources resources, RedisClient client, String clientName) {
        this.resources = resources;
        this.client = client;
        this.clientName = clientName;
        this.shared = client.connect(Utf8Strings.CODEC);
    }

    /**
     * Connects to {@code redisUrl}, in lettuce's forms: {@code redis://[[user:]password@]host[:port][/db]},
     * {@code rediss://...} for TLS (the server's certificate is verified against the JVM's trust
     * store), {@code redis-socket://[[user:]password@]/path/to/socket} (the embedded Redis), or
     * {@code redis-sentinel://[password@]host[:port][,host2[:port2]...][/db]#primary} for the primary
     * that Sentinels name. The client name lets an operator tell replicas apart in {@code CLIENT LIST}.
     *
     * @throws IllegalArgumentException for a URL that names no Redis
     * @throws RedisConnectionException when no Redis (or no Sentinel) answers
     */
    public static RedisConnection connect(String redisUrl, String clientName) {
        requireNonNull(redisUrl, "redisUrl");
        requireNonNull(clientName, "clientName");
        var uri = parse(redisUrl);
        uri.setClientName(clientName);
        var resources = ClientResources.builder().reconnectDelay(Delay.exponential(Duration.ofMillis(1), RECONNECT_AT_MOST,
                2, TimeUnit.MILLISECONDS)).build();
        var client = RedisClient.create(resources, uri);
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
            var connection = new RedisConnection(resources, client, clientName);
            if (isSentinel(uri)) {
                connection.warnIfReplicationUnchecked(uri.getSentinelMasterId());
            }
            return connection;
        } catch (RedisConnectionException e) {
            client.shutdown();
            resources.shutdown();
            throw new RedisConnectionException(unreachable(uri) + ": " + rootMessage(e), e);
        } catch (RuntimeException e) {
            client.shutdown();
            resources.shutdown();
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

    /**
     * Runs {@code write} on the shared connection. A refusal because the server is not (or no longer)
     * a primary that may take writes (READONLY, NOREPLICAS: nothing was written) drops our connections
     * to that server and tries again, with pauses, for up to {@link #FAILOVER_WAIT}; then the refusal
     * is thrown.
     */
    public <T> T write(Function<RedisCommands<String, String>, T> write) {
        long deadline = System.nanoTime() + FAILOVER_WAIT.toNanos();
        var pause = FIRST_PAUSE;
        while (true) {
            try {
                return write.apply(commands());
            } catch (RedisCommandExecutionException e) {
                if (!isNotPrimary(e) || System.nanoTime() + pause.toNanos() > deadline) {
                    throw e;
                }
                leaveOldPrimary(e);
                sleep(pause);
                pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : pause.multipliedBy(2);
            }
        }
    }

    /**
     * Whether a command's answer was lost, so that whether Redis ran it is unknown: the connection
     * dropped while it was in flight (lettuce fails that one command; the rest it sends again after
     * reconnecting), or no answer came in time. Not an answer Redis gave, nor an interrupted caller.
     */
    static boolean isAnswerLost(RedisException e) {
        return e instanceof RedisCommandTimeoutException || e instanceof RedisConnectionException
                || (!(e instanceof RedisCommandExecutionException) && !(e instanceof RedisCommandInterruptedException)
                        && e.getCause() instanceof IOException);
    }

    /** Whether Redis refused a write because it is no primary that may take one; then nothing was written. */
    static boolean isNotPrimary(Throwable e) {
        var message = e.getMessage();
        // Redis may prefix "ERR " or add where in a script the write was refused.
        return e instanceof RedisCommandExecutionException && message != null
                && (message.contains("READONLY ") || message.contains("NOREPLICAS "));
    }

    /**
     * Drops this replica's connections (those with our client name) to the server that refused a
     * write, at most once a pause: lettuce reconnects each, asking the Sentinels afresh, and replays
     * what was in flight. Until the Sentinels name the new primary, that may be the old one again.
     */
    void leaveOldPrimary(Throwable refusal) {
        synchronized (dropping) {
            if (System.nanoTime() - lastDrop < FIRST_PAUSE.toNanos()) {
                return;
            }
            lastDrop = System.nanoTime();
            try {
                var redis = commands();
                var ours = redis.clientList().lines()
                        .filter(line -> line.contains(" name=" + clientName + " "))
                        .map(line -> Long.parseLong(line.substring(3, line.indexOf(' '))))
                        .toList();
                var self = redis.clientId();
                if (System.nanoTime() - lastLog > FAILOVER_WAIT.toNanos()) {
                    lastLog = System.nanoTime();
                    log.info("Redis refused a write ({}): leaving that server for the primary the Sentinels name",
                            rootMessage(refusal));
                }
                for (var id : ours) {
                    if (id.longValue() != self.longValue()) {
                        redis.clientKill(KillArgs.Builder.id(id));
                    }
                }
                // Our own last: Redis answers, then closes it.
                redis.clientKill(KillArgs.Builder.id(self).skipme(false));
            } catch (RuntimeException e) {
                log.debug("Dropping our connections to the old primary: {}", e.toString());
            }
        }
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
        // Given to the client, so not the client's to shut down.
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    private static RedisURI parse(String redisUrl) {
        if (redisUrl.startsWith("redis-sentinel") && !redisUrl.contains("#")) {
            throw new IllegalArgumentException(NO_PRIMARY);
        }
        RedisURI uri;
        try {
            uri = RedisURI.create(redisUrl);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the Redis URL is malformed (" + e.getMessage() + "); expected "
                    + "redis://host:port, rediss://host:port, redis-socket:///path/to/socket or "
                    + "redis-sentinel://host1:26379,host2:26379#primary-name");
        }
        if (redisUrl.startsWith("redis-sentinel")) {
            if (uri.getSentinels().isEmpty()) {
                throw new IllegalArgumentException("the redis-sentinel:// URL names no Sentinel: "
                        + "redis-sentinel://host1:26379,host2:26379#primary-name");
            }
            var primary = uri.getSentinelMasterId();
            if (primary == null || primary.isBlank()) {
                throw new IllegalArgumentException(NO_PRIMARY);
            }
        } else if ((uri.getHost() == null || uri.getHost().isBlank()) && uri.getSocket() == null) {
            throw new IllegalArgumentException("the Redis URL names no host or socket; expected redis://host:port, "
                    + "rediss://host:port, redis-socket:///path/to/socket or redis-sentinel://host1:26379,host2:26379#primary-name");
        }
        return uri;
    }

    private static boolean isSentinel(RedisURI uri) {
        return !uri.getSentinels().isEmpty();
    }

    /** Where we tried, without the password. */
    private static String unreachable(RedisURI uri) {
        if (isSentinel(uri)) {
            return "no Sentinel at " + uri.getSentinels().stream().map(s -> s.getHost() + ":" + s.getPort())
                    .collect(Collectors.joining(", ")) + " named a reachable primary '" + uri.getSentinelMasterId() + "'";
        }
        return "cannot reach Redis at " + (uri.getSocket() != null ? uri.getSocket() : uri.getHost() + ":" + uri.getPort());
    }

    /**
     * A primary that takes writes with no replica loses them at the next failover: say so once. The
     * check reads the primary's configuration, which a managed Redis may not show.
     */
    private void warnIfReplicationUnchecked(String primary) {
        try {
            var minReplicas = commands().configGet("min-replicas-to-write").getOrDefault("min-replicas-to-write", "0");
            if ("0".equals(minReplicas)) {
                log.warn("The Redis primary '{}' takes writes without a replica (min-replicas-to-write 0): what it "
                        + "takes just before a failover may be lost. Set min-replicas-to-write 1 on every data node "
                        + "(docs/cluster/redis.md).", primary);
            }
        } catch (RuntimeException e) {
            log.info("Could not read min-replicas-to-write of the Redis primary '{}' ({}); see docs/cluster/redis.md",
                    primary, e.getMessage());
        }
    }

    private static String rootMessage(Throwable e) {
        var root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }

    private static void sleep(Duration pause) {
        try {
            Thread.sleep(pause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a Redis primary", e);
        }
    }
}
