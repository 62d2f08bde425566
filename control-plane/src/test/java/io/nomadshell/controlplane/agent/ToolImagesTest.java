package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.ComputerResult;
import io.nomadshell.proto.v1.ToolResult;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Screenshots and plots reach the model as image parts of one user message. */
class ToolImagesTest {

    private static ToolResult screenshot(byte marker) {
        return ToolResult.newBuilder().setComputer(ComputerResult.newBuilder()
                .setPng(ByteString.copyFrom(new byte[] {(byte) 0x89, 'P', 'N', 'G', marker}))).build();
    }

    @Test
    void aScreenshotBecomesAUserMessageWithADataUrl() {
        var images = new ToolImages();
        images.collect("s1c0", screenshot((byte) 1));
        images.collect("s1c1", ToolResult.newBuilder().setComputer(ComputerResult.newBuilder().setText("clicked")).build());

        var parts = images.message().orElseThrow().asUser().content().asArrayOfContentParts();
        assertThat(parts).hasSize(2);
        assertThat(parts.get(0).asText().text()).contains("s1c0");
        assertThat(parts.get(1).asImageUrl().imageUrl().url())
                .isEqualTo("data:image/png;base64," + Base64.getEncoder().encodeToString(new byte[] {(byte) 0x89, 'P', 'N', 'G', 1}));
    }

    @Test
    void nothingIsAddedWithoutImages() {
        var images = new ToolImages();
        images.collect("s1c0", ToolResult.newBuilder().setComputer(ComputerResult.newBuilder().setText("clicked")).build());
        assertThat(images.message()).isEmpty();
    }
}
