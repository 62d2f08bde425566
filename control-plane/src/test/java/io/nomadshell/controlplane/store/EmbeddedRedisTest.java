package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded Redis: a Unix socket in a 0700 directory, no TCP port, and one per directory. */
class EmbeddedRedisTest {

    @Test
    void listensOnAPrivateUnixSocketOnly(@TempDir Path dir) throws Exception {
        try (var redis = EmbeddedRedis.start(dir.resolve("redis"))) {
            assertThat(redis.url()).startsWith("redis-socket:///");
            assertThat(Files.getPosixFilePermissions(redis.socket().getParent()))
                    .isEqualTo(PosixFilePermissions.fromString("rwx------"));
            assertThat(Files.getPosixFilePermissions(redis.socket())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
            try (var connection = RedisConnection.connect(redis.url(), "test")) {
                assertThat(connection.commands().configGet("port")).containsEntry("port", "0");
            }
        }
    }

    @Test
    void aSecondStartOnTheSameFilesReplacesTheFirst(@TempDir Path dir) throws Exception {
        var first = EmbeddedRedis.start(dir.resolve("redis"));
        try (var second = EmbeddedRedis.start(dir.resolve("redis"))) {
            assertThat(first.pid()).isNotEqualTo(second.pid());
            assertThat(ProcessHandle.of(first.pid()).map(ProcessHandle::isAlive).orElse(false)).as("the first one").isFalse();
            var info = RedisProbe.ask(second.socket(), "INFO server", Duration.ofSeconds(2)).orElseThrow();
            assertThat(EmbeddedRedis.processId(info)).contains(second.pid());
        } finally {
            first.close();
        }
    }
}
