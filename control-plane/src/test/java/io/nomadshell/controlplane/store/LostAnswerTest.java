package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An append that reached Redis but whose answer was lost with the connection: Redis ran it, and the
 * control plane cannot know that. Whether the connection is reset (lettuce fails the call, and the
 * store sends it again) or closed (lettuce sends it again itself after reconnecting), the event is
 * in the job's stream once.
 */
class LostAnswerTest {
    @TempDir
    Path dir;
    private EmbeddedRedis redis;
    private AnswerCutter cutter;

    @BeforeEach
    void start() throws IOException {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        cutter = new AnswerCutter(redis.socket());
    }

    @AfterEach
    void stop() throws IOException {
        cutter.close();
        redis.close();
    }

    @Test
    void anAppendWhoseConnectionIsResetBeforeItsAnswerLandsOnce() {
        appendsOnceAcrossACut(true);
    }

    @Test
    void anAppendWhoseConnectionIsClosedBeforeItsAnswerLandsOnce() {
        appendsOnceAcrossACut(false);
    }

    private void appendsOnceAcrossACut(boolean reset) {
        try (var connection = RedisConnection.connect("redis://127.0.0.1:" + cutter.port(), "lost-answer-test")) {
            var store = new JobStore(connection);
            var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
            long before = store.appendEvent(id, step(1));

            cutter.cutTheNextAnswerToAScript(reset);
            long cut = store.appendEvent(id, step(2));
            long after = store.appendEvent(id, step(3));

            assertThat(cutter.cuts()).as("the proxy cut one answer").isEqualTo(1);
            assertThat(cut).isEqualTo(before + 1);
            assertThat(after).isEqualTo(cut + 1);
            var steps = store.eventsAfter(id, 0, 100).stream()
                    .filter(JobEvent::hasAssistantMessage).map(e -> e.getAssistantMessage().getStep()).toList();
            assertThat(steps).containsExactly(1, 2, 3);
        }
    }

    private static JobEvent.Builder step(int step) {
        return JobEvent.newBuilder().setAssistantMessage(AssistantMessage.newBuilder().setStep(step));
    }

    /**
     * A loopback proxy to Redis's Unix socket that, once armed, lets the next script call through and
     * then drops the connection instead of passing Redis's answer on: with a reset (RST) or a close.
     */
    private static final class AnswerCutter implements AutoCloseable {
        private final ServerSocket listener;
        private final Path target;
        private final AtomicBoolean armed = new AtomicBoolean();
        private volatile boolean reset;
        private volatile int cuts;

        AnswerCutter(Path target) throws IOException {
            this.target = target;
            this.listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(this::accept);
        }

        int port() {
            return listener.getLocalPort();
        }

        int cuts() {
            return cuts;
        }

        void cutTheNextAnswerToAScript(boolean reset) {
            this.reset = reset;
            armed.set(true);
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    var client = listener.accept();
                    var server = SocketChannel.open(UnixDomainSocketAddress.of(target));
                    var scriptSent = new AtomicBoolean();
                    Thread.ofVirtual().start(() -> pump(client, Channels.newInputStream(server),
                            clientOut(client), scriptSent, true));
                    Thread.ofVirtual().start(() -> pump(client, clientIn(client),
                            Channels.newOutputStream(server), scriptSent, false));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        /** Copies one direction; the answers' direction drops the connection once a script was sent armed. */
        private void pump(Socket client, InputStream in, OutputStream out, AtomicBoolean scriptSent, boolean answers) {
            var buffer = new byte[16 * 1024];
            try (in; out) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    if (!answers && new String(buffer, 0, n, StandardCharsets.US_ASCII).contains("EVALSHA")
                            && armed.compareAndSet(true, false)) {
                        scriptSent.set(true);
                    } else if (answers && scriptSent.get()) {
                        cuts++;
                        if (reset) {
                            client.setSoLinger(true, 0); // close() then sends RST
                        }
                        client.close();
                        return;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException dropped) {
                // The other direction closed the connection.
            }
        }

        private static InputStream clientIn(Socket client) {
            try {
                return client.getInputStream();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private static OutputStream clientOut(Socket client) {
            try {
                return client.getOutputStream();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
