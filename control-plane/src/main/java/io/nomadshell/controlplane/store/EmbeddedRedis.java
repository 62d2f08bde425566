package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.spawn.ParentBoundSpawner;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private {@code redis-server} child process for single-machine use, closed to everyone else: no
 * TCP port at all, only a Unix socket in a directory of mode 0700 under ours (socket mode 0700), with
 * the append-only file on, so jobs survive a restart of the control plane.
 *
 * <p>It never outlives us: it is started through {@code setpriv --pdeathsig KILL}, so the kernel kills
 * it when we die, even by {@code kill -9}. A start first finds a redis-server left on our files (by
 * a control plane that died before this rule, or one started by hand) and stops it, rather than
 * starting a second one on the same append-only file.
 */
public final class EmbeddedRedis implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedRedis.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);
    /** sun_path holds 108 bytes with its terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    private final Process process;
    private final Path socket;

    private EmbeddedRedis(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts redis-server (from PATH) on a Unix socket with its files in {@code directory}. */
    public static EmbeddedRedis start(Path directory) throws IOException {
        requireNonNull(directory, "directory");
        var home = Files.createDirectories(directory).toRealPath();
        var socket = socketPath(home);
        var pidFile = home.resolve("redis.pid");
        stopLeftover(home, socket, pidFile);
        var redisServer = onPath("redis-server").orElseThrow(() -> new IOException(
                "redis-server was not found on PATH: install it (apt-get install redis-server)"
                        + " or point REDIS_URL at a Redis of yours"));
        // setsid: a session of its own, so the Ctrl-C a terminal sends to our process group does not stop
        // Redis under the jobs still writing to it; close() stops it last.
        var command = new ProcessBuilder("setsid", redisServer.toString(),
                "--port", "0", "--unixsocket", socket.toString(), "--unixsocketperm", "700",
                "--dir", home.toString(), "--appendonly", "yes",
                "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--pidfile", pidFile.toString(),
                "--logfile", home.resolve("redis.log").toString())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("redis.out").toFile()));
        var redis = new EmbeddedRedis(ParentBoundSpawner.startKilledWithParent(command, "redis-server"), socket);
        redis.awaitReady(home);
        log.info("Embedded Redis on unix socket {} (no TCP port), its data in {}", socket, home);
        return redis;
    }

    /** For lettuce: {@code redis-socket:///path/to/redis.sock}. */
    public String url() {
        return "redis-socket://" + socket;
    }

    /** The Unix socket it listens on, the only way in. */
    public Path socket() {
        return socket;
    }

    /** The redis-server's process id. */
    public long pid() {
        return process.pid();
    }

    /** {@code <dir>/sock/redis.sock}, in a directory only we may enter. */
    private static Path socketPath(Path home) throws IOException {
        var dir = home.resolve("sock");
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        var socket = dir.resolve("redis.sock");
        if (socket.toString().length() > MAX_SOCKET_PATH) {
            throw new IOException("the embedded Redis's socket path is too long for a Unix socket ("
                    + socket.toString().length() + " > " + MAX_SOCKET_PATH + " bytes): " + socket
                    + "; choose a shorter --data-dir");
        }
        return socket;
    }

    private void awaitReady(Path home) throws IOException {
        var deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with code " + process.exitValue()
                        + "; see " + home.resolve("redis.log") + " and " + home.resolve("redis.out"));
            }
            if (RedisProbe.ask(socket, "PING", PROBE_TIMEOUT).filter("+PONG"::equals).isPresent()) {
                return;
            }
            sleep(Duration.ofMillis(50));
        }
        close();
        throw new IOException("redis-server did not answer within " + START_TIMEOUT.toSeconds() + " s");
    }

    /**
     * A redis-server still on our files: the one answering on our socket (it says its pid), and the
     * one our pid file names if it is a redis-server working in our directory. Both are stopped.
     */
    private static void stopLeftover(Path home, Path socket, Path pidFile) throws IOException {
        var pids = new LinkedHashSet<Long>();
        RedisProbe.ask(socket, "INFO server", PROBE_TIMEOUT).flatMap(EmbeddedRedis::processId).ifPresent(pids::add);
        if (Files.exists(pidFile)) {
            try {
                var pid = Long.parseLong(Files.readString(pidFile).strip());
                if (isRedisIn(pid, home)) {
                    pids.add(pid);
                }
            } catch (NumberFormatException e) {
                // A torn pid file names nobody.
            }
        }
        var stopping = new ArrayList<ProcessHandle>();
        for (var pid : pids) {
            ProcessHandle.of(pid).ifPresent(leftover -> {
                log.warn("Stopping a redis-server (pid {}) left on {} by an earlier run", pid, home);
                leftover.destroy(); // SIGTERM: it flushes its append-only file first
                stopping.add(leftover);
            });
        }
        for (var leftover : stopping) {
            try {
                leftover.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception stillThere) {
                leftover.destroyForcibly();
                leftover.onExit().orTimeout(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).exceptionally(t -> null).join();
            }
        }
        Files.deleteIfExists(socket);
    }

    /** {@code process_id:N} from an INFO reply. */
    static Optional<Long> processId(String info) {
        for (var line : info.split("\r\n")) {
            if (line.startsWith("process_id:")) {
                try {
                    return Optional.of(Long.parseLong(line.substring("process_id:".length()).strip()));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /** A redis-server whose working directory is {@code home} (redis-server chdirs to its --dir). */
    private static boolean isRedisIn(long pid, Path home) {
        var proc = Path.of("/proc", Long.toString(pid));
        try {
            return Files.readSymbolicLink(proc.resolve("exe")).getFileName().toString().startsWith("redis-")
                    && Files.readSymbolicLink(proc.resolve("cwd")).equals(home);
        } catch (IOException | UnsupportedOperationException gone) {
            return false;
        }
    }

    private static Optional<Path> onPath(String program) {
        var path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (var dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            var candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
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
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
