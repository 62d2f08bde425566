package io.nomadshell.daemon.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.TunnelFrame;
import io.nomadshell.proto.v1.TunnelOpen;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The daemon's end of tunnels, against a real echo server on loopback. */
class SandboxTunnelsTest {
    private static final int WINDOW = 16;
    private final LinkedBlockingQueue<TunnelFrame> sent = new LinkedBlockingQueue<>();
    private final Map<Long, Long> creditGranted = new HashMap<>();
    private final SandboxTunnels tunnels = new SandboxTunnels(sent::add);
    private ServerSocket echo;

    @BeforeEach
    void startEcho() throws IOException {
        echo = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket client = echo.accept();
                    Thread.ofVirtual().start(() -> {
                        try (client) {
                            client.getInputStream().transferTo(client.getOutputStream());
                        } catch (IOException ignored) {
                            // the test closed it
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    @AfterEach
    void stop() throws IOException {
        tunnels.closeAll();
        echo.close();
    }

    @Test
    void bytesGoThroughAndCreditComesBack() throws Exception {
        open(1, echo.getLocalPort());
        assertThat(next().hasOpened()).isTrue();

        tunnels.onFrame(data(1, "hello"));
        var echoed = new StringBuilder();
        int credited = 0;
        while (echoed.length() < 5 || credited < 5) {
            var frame = next();
            switch (frame.getKindCase()) {
                case DATA -> echoed.append(frame.getData().toStringUtf8());
                case CREDIT -> credited += frame.getCredit();
                default -> throw new AssertionError("unexpected " + frame);
            }
        }
        assertThat(echoed.toString()).isEqualTo("hello");
        assertThat(credited).as("the 5 bytes written are granted back").isEqualTo(5);
    }

    @Test
    void bytesSentWithTheOpenAreDeliveredOnceConnected() throws Exception {
        // The control plane sends the client's first bytes right behind the open, before opened.
        open(6, echo.getLocalPort());
        tunnels.onFrame(data(6, "early"));
        var echoed = new StringBuilder();
        boolean opened = false;
        while (echoed.length() < 5 || !opened) {
            var frame = next();
            switch (frame.getKindCase()) {
                case OPENED -> opened = true;
                case DATA -> echoed.append(frame.getData().toStringUtf8());
                case CREDIT -> {
                    // granted back once written
                }
                default -> throw new AssertionError("unexpected " + frame);
            }
        }
        assertThat(echoed.toString()).isEqualTo("early");
    }

    @Test
    void theDaemonNeverSendsMoreThanItWasGranted() throws Exception {
        open(2, echo.getLocalPort());
        assertThat(next().hasOpened()).isTrue();
        // 5 + 11 = the window; then 8 more the echo would like to send back.
        tunnels.onFrame(data(2, "aaaaa"));
        tunnels.onFrame(data(2, "bbbbbbbbbbb"));
        int received = awaitData(2, WINDOW);
        // The daemon grants credit once its writer has handed the bytes on, which may be after the
        // echo has answered: like any peer, send more only once granted.
        awaitCredit(2, 8);
        tunnels.onFrame(data(2, "cccccccc"));
        // Nothing beyond the window arrives until credit is granted.
        assertThat(dataWithin(2, 500)).as("bytes sent beyond the window").isZero();
        tunnels.onFrame(TunnelFrame.newBuilder().setTunnelId(2).setCredit(8).build());
        received += awaitData(2, 8);
        assertThat(received).isEqualTo(WINDOW + 8);
    }

    @Test
    void aPeerThatIgnoresItsWindowIsCutOff() throws Exception {
        open(3, echo.getLocalPort());
        assertThat(next().hasOpened()).isTrue();
        tunnels.onFrame(data(3, "x".repeat(WINDOW + 1)));
        var close = nextOfKind(TunnelFrame.KindCase.CLOSE);
        assertThat(close.getClose().getError()).contains("more than its window");
    }

    @Test
    void aPortWithNothingListeningClosesWithAReason() throws Exception {
        int unused;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            unused = socket.getLocalPort();
        }
        open(4, unused);
        var close = next();
        assertThat(close.hasClose()).isTrue();
        assertThat(close.getClose().getError()).contains("nothing accepts connections on port " + unused);
    }

    @Test
    void badOpenRequestsAreRefused() throws Exception {
        tunnels.onFrame(TunnelFrame.newBuilder().setTunnelId(5)
                .setOpen(TunnelOpen.newBuilder().setPort(70000).setWindow(WINDOW)).build());
        assertThat(next().getClose().getError()).contains("port must be 1-65535");
    }

    private void open(long id, int port) {
        tunnels.onFrame(TunnelFrame.newBuilder().setTunnelId(id)
                .setOpen(TunnelOpen.newBuilder().setPort(port).setWindow(WINDOW)).build());
    }

    private static TunnelFrame data(long id, String text) {
        return TunnelFrame.newBuilder().setTunnelId(id).setData(ByteString.copyFromUtf8(text)).build();
    }

    private TunnelFrame next() throws InterruptedException {
        var frame = sent.poll(10, TimeUnit.SECONDS);
        assertThat(frame).as("a frame from the daemon").isNotNull();
        if (frame.hasCredit()) {
            creditGranted.merge(frame.getTunnelId(), (long) frame.getCredit(), Long::sum);
        }
        return frame;
    }

    private void awaitCredit(long id, long bytes) throws InterruptedException {
        while (creditGranted.getOrDefault(id, 0L) < bytes) {
            next();
        }
    }

    private TunnelFrame nextOfKind(TunnelFrame.KindCase kind) throws InterruptedException {
        while (true) {
            var frame = next();
            if (frame.getKindCase() == kind) {
                return frame;
            }
        }
    }

    private int awaitData(long id, int bytes) throws InterruptedException {
        int received = 0;
        while (received < bytes) {
            var frame = next();
            if (frame.getTunnelId() == id && frame.hasData()) {
                received += frame.getData().size();
            }
        }
        return received;
    }

    private int dataWithin(long id, long millis) throws InterruptedException {
        int received = 0;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        TunnelFrame frame;
        while ((frame = sent.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) != null) {
            if (frame.getTunnelId() == id && frame.hasData()) {
                received += frame.getData().size();
            }
        }
        return received;
    }
}
