package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisException;
import io.nomadshell.controlplane.spawn.ParentBoundSpawner;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An external Redis with a password, as {@code REDIS_URL} names it: on a Unix socket
 * ({@code redis-socket://:pw@/path}), on loopback ({@code redis://:pw@127.0.0.1:port}) and over TLS
 * ({@code rediss://}); a wrong password is refused.
 */
class RedisConnectionTest {
    private static final String PASSWORD = "s3cret-for-this-test";
    private final List<Process> servers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (var server : servers) {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPasswordProtectedRedisOnAUnixSocket(@TempDir Path dir) throws Exception {
        var socket = dir.resolve("r.sock");
        start(dir, "--port", "0", "--unixsocket", socket.toString(), "--unixsocketperm", "700", "--requirepass", PASSWORD);
        awaitSocket(socket);
        assertWorks("redis-socket://:" + PASSWORD + "@" + socket);
        assertRefused("redis-socket://:wrong@" + socket);
        assertRefused("redis-socket://" + socket);
    }

    @Test
    void aPasswordProtectedRedisOnLoopback(@TempDir Path dir) throws Exception {
        var port = freePort();
        start(dir, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--requirepass", PASSWORD);
        awaitPort(port);
        assertWorks("redis://:" + PASSWORD + "@127.0.0.1:" + port + "/0");
        assertRefused("redis://:wrong@127.0.0.1:" + port);
    }

    @Test
    void aPasswordProtectedRedisOverTls(@TempDir Path dir) throws Exception {
        var key = dir.resolve("key.pem");
        var cert = dir.resolve("cert.pem");
        var openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-keyout", key.toString(), "-out", cert.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
        assertThat(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0).as("openssl made a certificate").isTrue();
        var port = freePort();
        start(dir, "--port", "0", "--tls-port", Integer.toString(port), "--bind", "127.0.0.1",
                "--tls-cert-file", cert.toString(), "--tls-key-file", key.toString(), "--tls-ca-cert-file", cert.toString(),
                "--tls-auth-clients", "no", "--requirepass", PASSWORD);
        awaitPort(port);
        // The test's self-signed certificate is in no trust store; by default the peer is verified.
        assertWorks("rediss://:" + PASSWORD + "@127.0.0.1:" + port + "?verifyPeer=NONE");
        assertRefused("rediss://:wrong@127.0.0.1:" + port + "?verifyPeer=NONE");
        assertRefused("rediss://:" + PASSWORD + "@127.0.0.1:" + port);
    }

    private static void assertWorks(String url) {
        try (var connection = RedisConnection.connect(url, "test")) {
            connection.commands().set("greeting", "hello");
            assertThat(connection.commands().get("greeting")).isEqualTo("hello");
        }
    }

    private static void assertRefused(String url) {
        assertThatThrownBy(() -> RedisConnection.connect(url, "test").close()).isInstanceOf(RedisException.class);
    }

    private void start(Path dir, String... args) throws IOException {
        var command = new ArrayList<>(List.of("redis-server", "--dir", dir.toString(), "--save", "", "--appendonly", "no"));
        command.addAll(List.of(args));
        // Killed with this JVM, should it die before the test's cleanup.
        servers.add(ParentBoundSpawner.startKilledWithParent(
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()),
                "redis-server"));
    }

    private static void awaitSocket(Path socket) throws InterruptedException {
        var deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(socket).exists();
    }

    private static void awaitPort(int port) throws InterruptedException {
        var deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (var ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new AssertionError("redis-server did not listen on " + port);
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
