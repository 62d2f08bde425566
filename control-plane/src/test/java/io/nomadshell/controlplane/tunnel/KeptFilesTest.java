package io.nomadshell.controlplane.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.artifact.KeptFile;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.Leases;
import io.nomadshell.controlplane.store.PeerDirectory;
import io.nomadshell.controlplane.store.RedisConnection;
import java.io.EOFException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's files, kept in one replica's store and recorded in a real Redis: another replica finds whose
 * store holds them and says in words when that replica is not running or not reachable; the replica
 * with the store sends only files a job keeps, never a path; a file cut short is never taken as whole.
 */
class KeptFilesTest {
    private EmbeddedRedis redis;
    private RedisConnection connection;
    private JobStore store;
    private PeerDirectory directory;
    private ArtifactStore storeA;
    private KeptFiles onA;
    private KeptFiles onB;
    private String job;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection);
        directory = new PeerDirectory(connection);
        var leases = new Leases(connection);
        storeA = new ArtifactStore(dir.resolve("a"), store::recordPlacement);
        onA = new KeptFiles(storeA, store, new Peering(leases, directory, new byte[32], "a"));
        onB = new KeptFiles(new ArtifactStore(dir.resolve("b"), store::recordPlacement), store,
                new Peering(leases, directory, new byte[32], "b"));
        job = store.create(JobIds.next(), "alice", "keep a zip", SandboxResources.DEFAULT, Instant.now(), null);
        try (var upload = storeA.begin(job)) {
            upload.write(new byte[] {1, 2, 3, 4, 5});
            upload.commit();
        }
    }

    @AfterEach
    void stop() {
        connection.close();
        redis.close();
    }

    @Test
    void aFileOnAReplicaThatIsNotRunningOrNotReachableIsUnavailableInWords() throws Exception {
        assertThat(store.placementOf(KeptFile.zip(job))).contains(storeA.id());
        assertThat(onA.open(KeptFile.zip(job))).containsInstanceOf(KeptFiles.Here.class);
        assertThatThrownBy(() -> onB.open(KeptFile.zip(job))).isInstanceOf(JobException.class)
                .hasMessage("The zip of job " + job + " is kept on the disk of another control plane (store "
                        + storeA.id() + "), and no control plane with that disk is running now: it may have stopped "
                        + "or failed. It can be downloaded again once that control plane is back.");
        int closed;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        directory.advertiseStore(storeA.id(), "a", Duration.ofSeconds(30));
        directory.advertise("a", "127.0.0.1:" + closed, Duration.ofSeconds(30));
        assertThatThrownBy(() -> onB.open(KeptFile.zip(job))).isInstanceOf(JobException.class)
                .hasMessageStartingWith("control plane a at 127.0.0.1:" + closed + ", which holds the zip of job "
                        + job + ", could not be reached: ");
        assertThat(onB.open(KeptFile.screenshot(job, "s1c0").orElseThrow())).as("kept nowhere").isEmpty();
    }

    @Test
    void theReplicaWithTheStoreSendsAKeptFileAndNothingElse() throws Exception {
        try (var server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                var asker = SocketChannel.open(server.getLocalAddress());
                var peer = server.accept()) {
            onA.serveHere(job, "zip", peer);
            peer.shutdownOutput();
            var got = asker.socket().getInputStream().readAllBytes();
            assertThat(got).isEqualTo(new byte[] {'o', 'k', ' ', '5', '\n', 1, 2, 3, 4, 5});
        }
        try (var server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                var asker = SocketChannel.open(server.getLocalAddress());
                var peer = server.accept()) {
            assertThatThrownBy(() -> onA.serveHere(job, "seed", peer)).isInstanceOf(JobException.class)
                    .hasMessage("there is no kept file 'seed' of job '" + job + "'");
            assertThatThrownBy(() -> onA.serveHere("../a/" + job, "zip", peer)).isInstanceOf(JobException.class);
            assertThatThrownBy(() -> onA.serveHere(job, "screenshot:../../" + job, peer)).isInstanceOf(JobException.class);
            assertThatThrownBy(() -> onB.serveHere(job, "zip", peer)).isInstanceOf(JobException.class)
                    .hasMessage("the zip of job " + job + " is not kept by this control plane");
        }
    }

    @Test
    void aFileCutShortFailsInsteadOfEndingEarly() throws Exception {
        try (var server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                var asker = SocketChannel.open(server.getLocalAddress());
                var sender = server.accept()) {
            sender.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            sender.close(); // died after 3 of 10 bytes
            try (var carried = new CarriedFile(10, asker, "a", KeptFile.zip(job)); var in = carried.open()) {
                assertThatThrownBy(in::readAllBytes).isInstanceOf(EOFException.class)
                        .hasMessage("the zip of job " + job + " stopped arriving from control plane a after 3 of 10 bytes");
            }
        }
    }
}
