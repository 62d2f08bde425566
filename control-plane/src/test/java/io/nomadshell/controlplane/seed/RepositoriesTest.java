package io.nomadshell.controlplane.seed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.seed.SeedLimits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** At most {@value Repositories#MAX_FETCHES} fetches at once; the next is told to come back, in words. */
class RepositoriesTest {
    @Test
    void fetchesPastTheLimitAreRefusedUntilOneEnds(@TempDir Path dir) throws Exception {
        var silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        try (var redis = EmbeddedRedis.start(dir.resolve("redis"));
                var connection = RedisConnection.connect(redis.url(), "test")) {
            var held = new CopyOnWriteArrayList<Socket>();
            var connected = new CountDownLatch(Repositories.MAX_FETCHES);
            Thread.ofVirtual().start(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept()); // and never answered
                        connected.countDown();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            var repositories = new Repositories(new EgressDialer(EgressPolicy.parse("", "127.0.0.0/8"),
                    new JobStore(connection)), GitCredentials.NONE, SeedLimits.DEFAULTS, Duration.ofSeconds(60),
                    dir.resolve("fetches"));
            var source = GitSource.of("http://127.0.0.1:" + silent.getLocalPort() + "/r.git", "", null);
            var outcomes = new CopyOnWriteArrayList<Reason>();
            List<Thread> fetches = new ArrayList<>();
            for (int i = 0; i < Repositories.MAX_FETCHES; i++) {
                var seed = dir.resolve("seed-" + i);
                fetches.add(Thread.ofVirtual().start(() -> {
                    try {
                        repositories.fetch(source, Long.MAX_VALUE, seed);
                    } catch (JobException e) {
                        outcomes.add(e.reason());
                    }
                }));
            }
            assertThat(connected.await(60, TimeUnit.SECONDS)).as("every fetch reached the server").isTrue();

            assertThatThrownBy(() -> repositories.fetch(source, Long.MAX_VALUE, dir.resolve("one-more")))
                    .isInstanceOfSatisfying(JobException.class, e -> {
                        assertThat(e.reason()).isEqualTo(Reason.UNAVAILABLE);
                        assertThat(e.getMessage()).contains("fetching " + Repositories.MAX_FETCHES + " repositories already");
                    });

            silent.close();
            for (var socket : held) {
                socket.close();
            }
            for (var fetch : fetches) {
                assertThat(fetch.join(Duration.ofSeconds(60))).isTrue();
            }
            assertThat(outcomes).hasSize(Repositories.MAX_FETCHES).doesNotContain(Reason.UNAVAILABLE);
            // Their places are free again: the next fetch is tried (and refused for its own reason).
            assertThatThrownBy(() -> repositories.fetch(source, Long.MAX_VALUE, dir.resolve("after")))
                    .isInstanceOfSatisfying(JobException.class, e -> assertThat(e.getMessage())
                            .doesNotContain("repositories already").contains("Connection refused"));
            try (var left = Files.list(dir.resolve("fetches"))) {
                assertThat(left).as("fetch folders left").isEmpty();
            }
        } finally {
            silent.close();
        }
    }
}
