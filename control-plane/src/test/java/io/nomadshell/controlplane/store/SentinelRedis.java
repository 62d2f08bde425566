package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.nomadshell.controlplane.spawn.ParentBoundSpawner;
import java.io.IOException;
import io.lettuce.core.sentinel.api.sync.RedisSentinelCommands;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A real Redis that can fail over, on free loopback ports: a primary, one replica and three Sentinels
 * (quorum 2), each a redis-server child in a directory of its own, killed with this JVM should the test
 * die before {@link #close}. Configured as docs/cluster/redis.md asks: the data nodes take writes only
 * while a replica is attached ({@code min-replicas-to-write 1}), but for a newly promoted primary
 * until its first replica is back ({@code scripts/sentinel-reconfig.sh}).
 */
public final class SentinelRedis implements AutoCloseable {
    public static final String PRIMARY_NAME = "nsprimary";
    private static final Duration READY = Duration.ofSeconds(20);
    /** The script docs/cluster/redis.md gives operators (tests run in their module's directory). */
    private static final Path RECONFIG_SCRIPT = Path.of("..", "scripts", "sentinel-reconfig.sh");

    private final List<Process> processes = new ArrayList<>();
    private final List<Integer> sentinelPorts = new ArrayList<>();
    private int primaryPort;
    private int replicaPort;

    private SentinelRedis() {}

    public static SentinelRedis start(Path directory) throws IOException, InterruptedException {
        var redis = new SentinelRedis();
        try {
            redis.startAll(requireNonNull(directory, "directory"));
            return redis;
        } catch (IOException | InterruptedException | RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    private void startAll(Path directory) throws IOException, InterruptedException {
        if (!Files.isExecutable(RECONFIG_SCRIPT)) {
            throw new IOException("no executable " + RECONFIG_SCRIPT.toAbsolutePath());
        }
        primaryPort = freePort();
        replicaPort = freePort();
        startDataNode(directory.resolve("primary"), primaryPort);
        startDataNode(directory.resolve("replica"), replicaPort, "--replicaof", "127.0.0.1", Integer.toString(primaryPort));
        for (int i = 1; i <= 3; i++) {
            var port = freePort();
            var dir = Files.createDirectories(directory.resolve("sentinel" + i));
            // Sentinel rewrites its configuration file, so each has one of its own.
            var config = Files.writeString(dir.resolve("sentinel.conf"), String.join("\n",
                    "port " + port, "bind 127.0.0.1", "dir " + dir,
                    "sentinel monitor " + PRIMARY_NAME + " 127.0.0.1 " + primaryPort + " 2",
                    "sentinel down-after-milliseconds " + PRIMARY_NAME + " 2000",
                    "sentinel failover-timeout " + PRIMARY_NAME + " 10000",
                    "sentinel client-reconfig-script " + PRIMARY_NAME + " " + RECONFIG_SCRIPT.toAbsolutePath(), ""));
            spawn(dir, List.of("redis-server", config.toString(), "--sentinel"));
            sentinelPorts.add(port);
        }
        awaitReplicaInSync();
        for (var port : sentinelPorts) {
            awaitSentinelSees(port);
        }
    }

    private void startDataNode(Path dir, int port, String... extra) throws IOException {
        Files.createDirectories(dir);
        var command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "no",
                "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10", "--repl-diskless-sync-delay", "0"));
        command.addAll(List.of(extra));
        spawn(dir, command);
    }

    private void spawn(Path dir, List<String> command) throws IOException {
        processes.add(ParentBoundSpawner.startKilledWithParent(new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()), "redis-server"));
    }

    /** {@code redis-sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3#nsprimary}. */
    public String url() {
        var hosts = new ArrayList<String>();
        sentinelPorts.forEach(port -> hosts.add("127.0.0.1:" + port));
        return "redis-sentinel://" + String.join(",", hosts) + "#" + PRIMARY_NAME;
    }

    /** The port of the data node the Sentinels name the primary now. */
    public int primaryPort() {
        return sentinel(sentinel -> ((InetSocketAddress) sentinel.getMasterAddrByName(PRIMARY_NAME)).getPort());
    }

    public int replicaPort() {
        return primaryPort() == primaryPort ? replicaPort : primaryPort;
    }

    /** Asks the Sentinels to promote the replica, as an operator would: {@code SENTINEL FAILOVER}. */
    public void failover() {
        sentinel(sentinel -> sentinel.failover(PRIMARY_NAME));
    }

    /**
     * SIGKILLs the data node that started as the primary, as when its host dies: it never comes back,
     * and the Sentinels promote the replica once they agree it is down (2 s here).
     */
    public void killPrimary() throws InterruptedException {
        // The first process is the first data node, the primary it was started as.
        var primary = processes.getFirst();
        primary.destroyForcibly();
        primary.waitFor();
    }

    /** Waits until the Sentinels name {@code port} the primary and it takes writes again. */
    public void awaitPrimary(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (primaryPort() == port && takesWrites(port)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the data node on " + port + " did not become a primary taking writes within " + timeout);
    }

    private static boolean takesWrites(int port) {
        var client = RedisClient.create(RedisURI.create("127.0.0.1", port));
        try (var connection = client.connect()) {
            return "OK".equals(connection.sync().set("ns:failover:probe", "1"));
        } catch (RuntimeException refused) {
            return false;
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    private <T> T sentinel(Function<RedisSentinelCommands<String, String>, T> command) {
        return sentinel(sentinelPorts.getFirst(), command);
    }

    private static <T> T sentinel(int port, Function<RedisSentinelCommands<String, String>, T> command) {
        var client = RedisClient.create(RedisURI.create("127.0.0.1", port));
        try (var connection = client.connectSentinel()) {
            return command.apply(connection.sync());
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    private void awaitReplicaInSync() throws InterruptedException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            if (takesWrites(primaryPort)) {
                return; // min-replicas-to-write: the primary takes writes once its replica is attached
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the replica did not attach to the primary within " + READY);
    }

    private void awaitSentinelSees(int port) throws InterruptedException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                var primary = sentinel(port, sentinel -> sentinel.master(PRIMARY_NAME));
                if ("1".equals(primary.get("num-slaves")) && "2".equals(primary.get("num-other-sentinels"))) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the Sentinel on " + port + " did not find the replica and the other Sentinels within " + READY);
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (var process : processes) {
            process.destroyForcibly();
        }
        for (var process : processes) {
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
