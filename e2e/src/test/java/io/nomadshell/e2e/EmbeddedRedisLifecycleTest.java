package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded Redis of a real server process ({@code nomad-shell server} with no REDIS_URL): on a
 * Unix socket only, no TCP port; gone when the server is killed with -9; one again, with every job,
 * after a restart on the same data dir; and a redis-server left on the data dir's socket is replaced
 * rather than joined by a second one.
 */
class EmbeddedRedisLifecycleTest {
    private static final Duration BOUND = Duration.ofSeconds(20);

    private ScriptedModelServer model;
    private final List<ServerProcess> servers = new ArrayList<>();
    private Process stale;

    @AfterEach
    void stop() throws Exception {
        for (var server : servers) server.close();
        if (stale != null) stale.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        if (model != null) model.close();
    }

    @Test
    void redisIsClosedDiesWithItsServerAndIsReplacedWhenStale(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        var dataDir = tmp.resolve("d");
        var home = dataDir.resolve("redis");

        var first = start(dataDir, tmp.resolve("first.log"));
        var job = first.rest().schedule(Fixtures.HELLO_TASK);
        assertThat(first.rest().awaitEnd(job, Duration.ofSeconds(90)).last().path("status").asText()).isEqualTo("complete");
        var redis = redisServersIn(home);
        assertThat(redis).as("one embedded redis-server").hasSize(1);
        var pid = redis.iterator().next();
        assertThat(ListeningSockets.of(List.of(pid))).as("TCP sockets redis-server %d listens on", pid).isEmpty();
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("redis-server %d, still running", pid).isPresent();
        assertThat(Files.getPosixFilePermissions(home.resolve("sock")))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(home.resolve("sock").resolve("redis.sock")))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));

        first.kill();
        awaitNoRedisIn(home);

        var second = start(dataDir, tmp.resolve("second.log"));
        assertThat(redisServersIn(home)).as("one redis-server after the restart").hasSize(1);
        assertThat(second.rest().status(job).path("status").asText()).as("the job survived").isEqualTo("complete");
        assertThat(second.rest().getBytes("/download/" + job).statusCode()).isEqualTo(200);
        second.close();
        awaitNoRedisIn(home);

        // A redis-server left on the data dir's socket by someone else.
        var elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        stale = new ProcessBuilder("redis-server", "--port", "0", "--unixsocket", home.resolve("sock/redis.sock").toString(),
                "--dir", elsewhere.toString(), "--save", "", "--appendonly", "no")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("stale.log").toFile()).start();
        var deadline = System.nanoTime() + BOUND.toNanos();
        while (!Files.exists(home.resolve("sock/redis.sock")) && System.nanoTime() < deadline) {
            Rest.sleep(50);
        }
        assertThat(home.resolve("sock/redis.sock")).as("the stale redis-server's socket").exists();

        var third = start(dataDir, tmp.resolve("third.log"));
        assertThat(stale.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS)).as("the stale redis-server was stopped").isTrue();
        assertThat(redisServersIn(home)).as("one redis-server: the new one").hasSize(1);
        assertThat(third.rest().status(job).path("status").asText()).isEqualTo("complete");
    }

    private ServerProcess start(Path dataDir, Path log) throws Exception {
        var server = ServerProcess.start(dataDir, null, model.baseUrl(), log);
        servers.add(server);
        return server;
    }

    private static void awaitNoRedisIn(Path home) {
        var deadline = System.nanoTime() + BOUND.toNanos();
        while (!redisServersIn(home).isEmpty() && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(redisServersIn(home)).as("redis-servers left on %s", home).isEmpty();
    }

    /** Pids of redis-server processes on these files: working in {@code home}, or naming its socket. */
    static Set<Long> redisServersIn(Path home) {
        var socket = home.resolve("sock").resolve("redis.sock").toString();
        var found = new HashSet<Long>();
        for (var dir : processDirs()) {
            try {
                if (!Files.readSymbolicLink(dir.resolve("exe")).getFileName().toString().startsWith("redis-")) {
                    continue;
                }
                var cmdline = Files.readString(dir.resolve("cmdline"));
                if (Files.readSymbolicLink(dir.resolve("cwd")).equals(home.toRealPath()) || cmdline.contains(socket)) {
                    found.add(Long.parseLong(dir.getFileName().toString()));
                }
            } catch (IOException gone) {
                // ended while we looked, or not ours to read
            }
        }
        return found;
    }

    private static List<Path> processDirs() {
        try (var dirs = Files.list(Path.of("/proc"))) {
            return dirs.filter(dir -> dir.getFileName().toString().chars().allMatch(Character::isDigit)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
