package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OutputCaptureTest {

    @Test
    void keepsEverythingUpToTheCap() {
        OutputCapture capture = new OutputCapture();
        byte[] all = pattern(OutputCapture.HEAD + OutputCapture.TAIL);
        capture.append(all, all.length);

        assertThat(capture.truncated()).isFalse();
        assertThat(capture.render()).isEqualTo(new String(all, StandardCharsets.US_ASCII));
    }

    @Test
    void keepsTheHeadAndTheLastBytesAcrossTheRingsWrap() {
        OutputCapture capture = new OutputCapture();
        byte[] all = pattern(200_003);
        // Odd-sized pieces, so appends straddle both the head's end and the ring's wrap.
        for (int offset = 0; offset < all.length; offset += 7) {
            byte[] piece = Arrays.copyOfRange(all, offset, Math.min(offset + 7, all.length));
            capture.append(piece, piece.length);
        }

        String text = new String(all, StandardCharsets.US_ASCII);
        int omitted = all.length - OutputCapture.HEAD - OutputCapture.TAIL;
        assertThat(capture.truncated()).isTrue();
        assertThat(capture.render()).isEqualTo(text.substring(0, OutputCapture.HEAD)
                + "\n[... " + omitted + " bytes omitted ...]\n"
                + text.substring(all.length - OutputCapture.TAIL));
    }

    @Test
    void refusesOutputOnceClosed() {
        OutputCapture capture = new OutputCapture();
        capture.close();

        assertThat(capture.append(new byte[] {'x'}, 1)).isFalse();
        assertThat(capture.render()).isEmpty();
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) ('a' + (i * 31 + i / 26) % 26);
        }
        return bytes;
    }
}
