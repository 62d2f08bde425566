package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.nomadshell.controlplane.context.Images;
import io.nomadshell.proto.v1.CodeOutput;
import io.nomadshell.proto.v1.ComputerResult;
import io.nomadshell.proto.v1.RunCodeResult;
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
        var images = new ToolImages(true);
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
        var images = new ToolImages(true);
        images.collect("s1c0", ToolResult.newBuilder().setComputer(ComputerResult.newBuilder().setText("clicked")).build());
        assertThat(images.message()).isEmpty();
    }

    @Test
    void aModelWithoutImagesGetsADescriptionInText() {
        var png = new byte[24];
        png[0] = (byte) 0x89;
        png[1] = 'P';
        png[2] = 'N';
        png[3] = 'G';
        png[18] = 0x02;
        png[19] = (byte) 0x80;
        png[23] = (byte) 0xf0;
        var images = new ToolImages(false);
        images.collect("s2c0", ToolResult.newBuilder().setComputer(ComputerResult.newBuilder()
                .setPng(ByteString.copyFrom(png)).setImageWidth(1280).setImageHeight(800).setText("clicked OK in the Save dialog")).build());
        images.collect("s2c1", ToolResult.newBuilder().setRunCode(RunCodeResult.newBuilder()
                .addOutputs(CodeOutput.newBuilder().setKind(CodeOutput.Kind.DISPLAY).setPng(ByteString.copyFrom(png)))).build());

        var text = images.message().orElseThrow().asUser().content().asText();
        assertThat(text).isEqualTo("""
                Image 1 of 1 from tool call s2c0: a screenshot of 1280x800 from computer (clicked OK in the Save dialog) %1$s
                Image 1 of 1 from tool call s2c1: a PNG of 640x240 from run_code %1$s""".formatted(Images.NOT_SHOWN));
    }
}
