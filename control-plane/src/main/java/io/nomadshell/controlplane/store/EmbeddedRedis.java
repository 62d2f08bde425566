package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private {@code redis-server} child process for single-machine use: loopback only, append-only
 * file on, under a directory of ours, so jobs survive a restart of the control plane.
 */
public final class EmbeddedRedis implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedRedis.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final Process process;
    private final int port;

    private EmbeddedRedis(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts redis-server (from PATH) on a free loopback port with its files in {@code directory}. */
    public static EmbeddedRedis start(Path directory) throws IOException {
        requireNonNull(directory, "directory");
        Files.createDirectories(directory);
        stopLeftover(directory.resolve("redis.pid"));
        int port = freePort();
        var command = new ProcessBuilder("redis-server",
                "--bind", "127.0.0.1", "--port", Integer.toString(port), "--protected-mode", "yes",
                "--dir", directory.toAbsolutePath().toString(), "--appendonly", "yes",
                "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--pidfile", directory.resolve("redis.pid").toAbsolutePath().toString(),
                "--logfile", directory.resolve("redis.log").toAbsolutePath().toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process process;
        try {
            process = command.start();
        } catch (IOException e) {
            throw new IOException("redis-server was not found on PATH: install it (apt-get install redis-server)"
                    + " or point REDIS_URL at a Redis of yours", e);
        }
        var redis = new EmbeddedRedis(process, port);
        redis.awaitReady(directory);
        log.info("Embedded Redis on 127.0.0.1:{} with its data in {}", port, directory);
        return redis;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    private void awaitReady(Path directory) throws IOException {
        var deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with code " + process.exitValue()
                        + "; see " + directory.resolve("redis.log"));
            }
            if (answersPing()) {
                return;
            }
            sleep(Duration.ofMillis(50));
        }
        close();
        throw new IOException("redis-server did not answer within " + START_TIMEOUT.toSeconds() + " s");
    }

    private boolean answersPing() {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            var reply = new byte[5];
            return in.readNBytes(reply, 0, 5) == 5 && new String(reply, StandardCharsets.US_ASCII).equals("+PONG");
        } catch (IOException notYet) {
            return false;
        }
    }

    /** A control plane killed with -9 leaves its Redis running on our files: stop it first. */
    private static void stopLeftover(Path pidFile) throws IOException {
        if (!Files.exists(pidFile)) {
            return;
        }
        var pid = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle.of(pid)
                .filter(p -> p.info().command().map(c -> c.contains("redis")).orElse(false))
                .ifPresent(leftover -> {
                    log.warn("Stopping a redis-server (pid {}) left over from an earlier run", pid);
                    leftover.destroy();
                    leftover.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
                });
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops Redis with SIGTERM, which flushes the append-only file first. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
