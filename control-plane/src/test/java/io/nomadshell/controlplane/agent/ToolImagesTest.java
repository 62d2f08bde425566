package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.proto.v1.ComputerResult;
import io.nomadshell.proto.v1.ToolResult;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Screenshots reach the model as image parts, and only the newest few stay in the prompt. */
class ToolImagesTest {

    private static ToolResult screenshot(byte marker) {
        return ToolResult.newBuilder().setComputer(ComputerResult.newBuilder()
                .setPng(ByteString.copyFrom(new byte[] {(byte) 0x89, 'P', 'N', 'G', marker}))).build();
    }

    @Test
    void aScreenshotBecomesAUserMessageWithADataUrl() {
        var messages = new ArrayList<ChatCompletionMessageParam>();
        var images = new ToolImages();
        images.collect("s1c0", screenshot((byte) 1));
        images.collect("s1c1", ToolResult.newBuilder().setComputer(ComputerResult.newBuilder().setText("clicked")).build());
        images.appendTo(messages);

        assertThat(messages).hasSize(1);
        var parts = messages.getFirst().asUser().content().asArrayOfContentParts();
        assertThat(parts).hasSize(2);
        assertThat(parts.get(0).asText().text()).contains("s1c0");
        assertThat(parts.get(1).asImageUrl().imageUrl().url())
                .isEqualTo("data:image/png;base64," + Base64.getEncoder().encodeToString(new byte[] {(byte) 0x89, 'P', 'N', 'G', 1}));
    }

    @Test
    void nothingIsAddedWithoutImages() {
        var messages = new ArrayList<ChatCompletionMessageParam>();
        new ToolImages().appendTo(messages);
        assertThat(messages).isEmpty();
    }

    @Test
    void onlyTheNewestImagesStay() {
        var messages = new ArrayList<ChatCompletionMessageParam>();
        messages.add(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content("the task").build()));
        for (int i = 1; i <= 5; i++) {
            var images = new ToolImages();
            images.collect("s" + i, screenshot((byte) i));
            images.appendTo(messages);
        }

        List<String> kinds = messages.stream().skip(1).map(m -> {
            var parts = m.asUser().content().asArrayOfContentParts();
            return parts.get(1).isImageUrl() ? "image" : parts.get(1).asText().text();
        }).toList();
        assertThat(kinds).containsExactly(ToolImages.OMITTED, ToolImages.OMITTED, "image", "image", "image");
        assertThat(messages.getFirst().asUser().content().asText()).isEqualTo("the task");
    }
}
