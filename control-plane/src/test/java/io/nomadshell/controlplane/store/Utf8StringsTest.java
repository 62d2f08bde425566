package io.nomadshell.controlplane.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control plane's codec decodes what lettuce's did, through a real Redis and from any buffer. */
class Utf8StringsTest {
    private static final String MIXED = "tâche: écrire 日本語 and emoji 🚀";

    @Test
    void multiByteValuesAndKeysComeBackAsStoredThroughRedis(@TempDir Path dir) throws Exception {
        try (var redis = EmbeddedRedis.start(dir.resolve("redis"));
                var connection = RedisConnection.connect(redis.url(), "codec-test")) {
            var sync = connection.commands();
            sync.hset("h:" + MIXED, Map.of("f:" + MIXED, MIXED, "empty", ""));
            assertThat(sync.hgetall("h:" + MIXED)).containsExactlyInAnyOrderEntriesOf(Map.of("f:" + MIXED, MIXED, "empty", ""));
            assertThat(sync.keys("h:*")).containsExactly("h:" + MIXED);
            assertThat(connection.asyncCommands().hget("h:" + MIXED, "f:" + MIXED).get()).isEqualTo(MIXED);
        }
    }

    @Test
    void decodesTheRemainingBytesOfDirectAndHeapBuffersWithoutMovingThem() {
        var bytes = ("xx" + MIXED).getBytes(UTF_8);
        var heap = ByteBuffer.wrap(bytes).position(2);
        var direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).position(2);

        assertThat(Utf8Strings.CODEC.decodeValue(heap)).isEqualTo(MIXED);
        assertThat(Utf8Strings.CODEC.decodeKey(direct)).isEqualTo(MIXED);
        assertThat(heap.position()).isEqualTo(2);
        assertThat(direct.position()).isEqualTo(2);
        assertThat(Utf8Strings.CODEC.decodeValue(heap.slice(2, 0))).isEmpty();
    }
}
