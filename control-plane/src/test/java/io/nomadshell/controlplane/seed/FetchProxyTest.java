package io.nomadshell.controlplane.seed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-fetch SOCKS proxy, driven by the JDK's own SOCKS client (which sends the name unresolved,
 * as curl's socks5h does) against real listeners on 127.0.0.1: it reaches the repository's host and
 * port only, with the egress rules, and cuts a download past its cap.
 */
class FetchProxyTest {
    private static final int CAP = 64 * 1024;

    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;

    private ServerSocket repository;
    private ServerSocket other;

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
    void listen() throws IOException {
        repository = sending(4 * CAP);
        other = sending(16);
    }

    @AfterEach
    void close() throws IOException {
        repository.close();
        other.close();
    }

    @Test
    void theRepositorysHostAndPortAreReachedAndNothingElse() throws Exception {
        try (var proxy = proxy(EgressPolicy.parse("", "127.0.0.0/8"), 16 * CAP)) {
            try (var socket = through(proxy, "127.0.0.1", repository.getLocalPort())) {
                assertThat(socket.getInputStream().readAllBytes()).hasSize(4 * CAP);
            }
            assertThat(proxy.refusal()).isEmpty();
            assertThatThrownBy(() -> through(proxy, "127.0.0.1", other.getLocalPort())).isInstanceOf(IOException.class);
            assertThat(proxy.refusal()).hasValueSatisfying(why -> assertThat(why)
                    .isEqualTo("git asked to reach 127.0.0.1:" + other.getLocalPort() + ", which is not the repository's host"));
        }
        try (var proxy = proxy(EgressPolicy.parse("", "127.0.0.0/8"), 16 * CAP)) {
            // Another name for the same address is another host.
            assertThatThrownBy(() -> through(proxy, "localhost", repository.getLocalPort())).isInstanceOf(IOException.class);
            assertThat(proxy.refusal()).hasValueSatisfying(why -> assertThat(why).contains("not the repository's host"));
        }
    }

    @Test
    void aSpecialAddressIsRefusedWithTheEgressRulesWords() throws Exception {
        try (var proxy = proxy(EgressPolicy.NONE, 16 * CAP)) {
            assertThatThrownBy(() -> through(proxy, "127.0.0.1", repository.getLocalPort())).isInstanceOf(IOException.class);
            assertThat(proxy.refusal()).hasValueSatisfying(why -> assertThat(why)
                    .contains("it resolves to a loopback address (127.0.0.1)"));
        }
    }

    @Test
    void aDownloadPastTheCapIsCut() throws Exception {
        try (var proxy = proxy(EgressPolicy.parse("", "127.0.0.0/8"), CAP)) {
            long read = 0;
            try (var socket = through(proxy, "127.0.0.1", repository.getLocalPort()); var in = socket.getInputStream()) {
                var buffer = new byte[8192];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    read += n;
                }
            } catch (IOException e) {
                // A reset is one way to be cut.
            }
            assertThat(read).isLessThanOrEqualTo(CAP);
            assertThat(proxy.tooLarge()).isTrue();
        }
    }

    private FetchProxy proxy(EgressPolicy policy, long cap) throws IOException {
        return new FetchProxy(new EgressDialer(policy, store), "127.0.0.1", repository.getLocalPort(), cap);
    }

    private static Socket through(FetchProxy proxy, String host, int port) throws IOException {
        var address = URI.create(proxy.url());
        var socket = new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(address.getHost(), address.getPort())));
        try {
            socket.connect(InetSocketAddress.createUnresolved(host, port), 5_000);
            socket.setSoTimeout(10_000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** A listener on 127.0.0.1 that sends {@code bytes} zeros to each connection, then closes it. */
    private static ServerSocket sending(int bytes) throws IOException {
        var listener = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(() -> {
            while (!listener.isClosed()) {
                try (var socket = listener.accept(); OutputStream out = socket.getOutputStream()) {
                    out.write(new byte[bytes]);
                } catch (IOException e) {
                    // closed, or the client went away
                }
            }
        });
        return listener;
    }
}
