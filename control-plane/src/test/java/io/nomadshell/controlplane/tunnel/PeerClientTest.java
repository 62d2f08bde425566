package io.nomadshell.controlplane.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.Leases;
import io.nomadshell.controlplane.store.PeerDirectory;
import io.nomadshell.controlplane.store.RedisConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica without a job's sandbox finds the one holding it through the job's lease and that
 * replica's advertisement in a real Redis, and says in words why it cannot reach it: nobody holds
 * the job, it holds the job itself (never dialling itself), the holder advertises no address, or the
 * holder does not answer there.
 */
class PeerClientTest {
    private EmbeddedRedis redis;
    private RedisConnection connection;
    private PeerDirectory directory;
    private PeerClient client;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        directory = new PeerDirectory(connection);
        client = new PeerClient(new Leases(connection), directory, new PeerSigner(new byte[32], Clock.systemUTC()),
                "me", Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        connection.close();
        redis.close();
    }

    @Test
    void theHolderIsTheLeasesAndItsAddressItsAdvertisement() throws Exception {
        connection.commands().set("ns:lease:j1", "cp/a-7/3");
        directory.advertise("cp/a-7", "127.0.0.1:7000", Duration.ofSeconds(30));
        assertThat(client.holderOf("j1")).isEqualTo(new PeerClient.Holder("cp/a-7", "127.0.0.1:7000"));
        directory.withdraw("cp/a-7", "127.0.0.1:7000", Duration.ofSeconds(5));
        assertThatThrownBy(() -> client.holderOf("j1")).isInstanceOf(JobException.class)
                .hasMessage("job j1 runs on control plane cp/a-7, which is not reachable from here "
                        + "(it advertises no peer address: it may have stopped)");
    }

    @Test
    void noHolderOrThisReplicaItselfIsUnavailableInWords() {
        assertThatThrownBy(() -> client.holderOf("j2")).isInstanceOf(JobException.class)
                .hasMessageStartingWith("job j2 has no running sandbox");
        connection.commands().set("ns:lease:j2", "me/1");
        directory.advertise("me", "127.0.0.1:7001", Duration.ofSeconds(30));
        assertThatThrownBy(() -> client.holderOf("j2")).isInstanceOf(JobException.class)
                .hasMessage("job j2 has no running sandbox attached at the moment (it has just ended, or its sandbox is "
                        + "reconnecting: then try again in a few seconds)");
    }

    @Test
    void aHolderThatDoesNotAnswerIsNamedWithItsAddress() throws Exception {
        int closed;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        var holder = new PeerClient.Holder("other", "127.0.0.1:" + closed);
        assertThatThrownBy(() -> client.ensureService(holder, "j3", "desktop", Duration.ofSeconds(1)))
                .isInstanceOf(JobException.class)
                .hasMessageStartingWith("control plane other at 127.0.0.1:" + closed
                        + ", which holds job j3's sandbox, could not be reached: ");
    }
}
