package io.nomadshell.proto.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.TunnelClose;
import io.nomadshell.proto.v1.TunnelFrame;
import io.nomadshell.proto.v1.TunnelOpened;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pump's edges: opening, and what the peer sent before it closed. */
class ByteTunnelTest {
    private final List<TunnelFrame> sent = new CopyOnWriteArrayList<>();

    @Test
    void theOpenerLearnsWhetherThePeerOpenedOrWhy() throws Exception {
        var refused = new ByteTunnel(1, 16, sent::add, () -> {});
        refused.onFrame(frame(1).setClose(TunnelClose.newBuilder().setError("not allowed")).build());
        assertThat(refused.opened().get(1, TimeUnit.SECONDS)).isEqualTo("not allowed");

        var accepted = new ByteTunnel(2, 16, sent::add, () -> {});
        accepted.onFrame(frame(2).setOpened(TunnelOpened.getDefaultInstance()).build());
        assertThat(accepted.opened().get(1, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void whatThePeerSentBeforeClosingIsDeliveredEvenWhenPumpingStartsAfter() throws Exception {
        var tunnel = new ByteTunnel(3, 16, sent::add, () -> {});
        tunnel.onFrame(frame(3).setOpened(TunnelOpened.getDefaultInstance()).build());
        tunnel.onFrame(frame(3).setData(ByteString.copyFromUtf8("banner\n")).build());
        tunnel.onFrame(frame(3).setClose(TunnelClose.getDefaultInstance()).build());

        var delivered = new ByteArrayOutputStream();
        var closed = new CountDownLatch(1);
        tunnel.pump(InputStream.nullInputStream(), delivered, closed::countDown);

        assertThat(closed.await(5, TimeUnit.SECONDS)).as("the connection is closed after the delivery").isTrue();
        assertThat(delivered.toString()).isEqualTo("banner\n");
        assertThat(sent).as("the 7 bytes written are granted back").contains(frame(3).setCredit(7).build());
    }

    @Test
    void anEarlyOpenerSendsItsWindowAtOnceAndNoMoreWhenThePeerSaysOpened() throws Exception {
        var tunnel = new ByteTunnel(5, 16, sent::add, () -> {});
        tunnel.sendEarly();
        tunnel.pump(new ByteArrayInputStream(new byte[40]), OutputStream.nullOutputStream(), () -> {});

        awaitDataSent(16);
        tunnel.onFrame(frame(5).setOpened(TunnelOpened.getDefaultInstance()).build());
        tunnel.onFrame(frame(5).setCredit(8).build());

        awaitDataSent(24);
        assertThat(tunnel.opened().get(1, TimeUnit.SECONDS)).isEmpty();
        Thread.sleep(200); // nothing more may follow: the opened frame granted nothing twice
        assertThat(dataSent()).isEqualTo(24);
    }

    @Test
    void aPeerThatIgnoresItsCreditIsCutOff() {
        var tunnel = new ByteTunnel(4, 4, sent::add, () -> {});
        tunnel.onFrame(frame(4).setData(ByteString.copyFromUtf8("too much")).build());

        assertThat(sent).extracting(TunnelFrame::getClose).extracting(TunnelClose::getError)
                .containsExactly("the peer sent more than its window");
    }

    private void awaitDataSent(int bytes) throws InterruptedException {
        var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (dataSent() < bytes && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(dataSent()).isEqualTo(bytes);
    }

    private int dataSent() {
        return sent.stream().mapToInt(frame -> frame.getData().size()).sum();
    }

    private static TunnelFrame.Builder frame(long id) {
        return TunnelFrame.newBuilder().setTunnelId(id);
    }
}
