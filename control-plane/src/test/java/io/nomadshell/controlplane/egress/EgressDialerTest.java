package io.nomadshell.controlplane.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.EgressConnection;
import io.nomadshell.proto.v1.JobEvent;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dialer against a real Redis (for the job and its events) and a real listener on loopback. */
class EgressDialerTest {
    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;

    private ServerSocket listener;
    private String jobId;
    /** Names resolve here, never through DNS: the test talks to 127.0.0.1 only. */
    private final Map<String, List<String>> names = Map.of(
            "localhost", List.of("127.0.0.1"),
            "metadata.example", List.of("169.254.169.254"),
            "mixed.example", List.of("10.0.0.1", "127.0.0.1"));

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection);
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        listener = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
        var granted = new SandboxResources(500, 512, Duration.ofMinutes(5),
                List.of("localhost", "metadata.example", "mixed.example"));
        jobId = store.create(JobIds.next(), "alice", "egress", granted, Instant.now(), null);
    }

    @AfterEach
    void closeListener() throws Exception {
        listener.close();
    }

    @Test
    void anAllowedHostIsConnectedAtTheAddressThatWasCheckedAndRecorded() throws Exception {
        var dialer = dialer(EgressPolicy.parse("localhost", "127.0.0.0/8"));

        try (var socket = dialer.connect(jobId, "LOCALHOST", listener.getLocalPort())) {
            assertThat(socket.getInetAddress().getHostAddress()).isEqualTo("127.0.0.1");
        }
        assertThat(lastEgress()).isEqualTo(EgressConnection.newBuilder().setHost("localhost")
                .setPort(listener.getLocalPort()).setAddress("127.0.0.1").setAllowed(true).build());
    }

    @Test
    void aHostOffTheJobsListIsRefusedBeforeAnyLookup() {
        var dialer = dialer(EgressPolicy.parse("*", "127.0.0.0/8"));

        assertThatThrownBy(() -> dialer.connect(jobId, "evil.example", 443))
                .isInstanceOf(EgressRefusedException.class)
                .hasMessage("egress to evil.example is not allowed for this job "
                        + "(allowed: localhost, metadata.example, mixed.example)");
        var event = lastEgress();
        assertThat(event.getAllowed()).isFalse();
        assertThat(event.getAddress()).isEmpty();
        assertThat(event.getHost()).isEqualTo("evil.example");
    }

    @Test
    void anAllowedNameThatResolvesToLoopbackIsRefusedWithoutThePrivateAllowance() {
        var dialer = dialer(EgressPolicy.parse("localhost, metadata.example", ""));

        assertThatThrownBy(() -> dialer.connect(jobId, "localhost", listener.getLocalPort()))
                .hasMessage("egress to localhost is not allowed: it resolves to a loopback address (127.0.0.1), "
                        + "which sandboxes may not reach");
        assertThat(lastEgress().getAddress()).isEqualTo("127.0.0.1");
        assertThatThrownBy(() -> dialer.connect(jobId, "metadata.example", 80))
                .hasMessageContaining("the cloud metadata address (169.254.169.254)");
    }

    @Test
    void onlyTheAllowedAddressesOfANameAreTried() throws Exception {
        var dialer = dialer(EgressPolicy.parse("mixed.example", "127.0.0.0/8"));

        try (var socket = dialer.connect(jobId, "mixed.example", listener.getLocalPort())) {
            assertThat(socket.getInetAddress().getHostAddress()).isEqualTo("127.0.0.1");
        }
    }

    private EgressDialer dialer(EgressPolicy policy) {
        return new EgressDialer(policy, store, host -> {
            var addresses = names.get(host);
            if (addresses == null) {
                throw new java.net.UnknownHostException(host);
            }
            var resolved = new InetAddress[addresses.size()];
            for (int i = 0; i < resolved.length; i++) {
                resolved[i] = InetAddress.getByName(addresses.get(i));
            }
            return resolved;
        }, Duration.ofSeconds(2));
    }

    private EgressConnection lastEgress() {
        return store.eventsAfter(jobId, 0, 100).stream()
                .filter(JobEvent::hasEgress)
                .reduce((first, second) -> second)
                .orElseThrow()
                .getEgress();
    }
}
