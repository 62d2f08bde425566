package io.nomadshell.controlplane.context;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Only the newest few images stay in the prompt, wherever they are in the conversation. */
class ImagesTest {

    private static ChatCompletionMessageParam screenshot(int n) {
        return ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                .content(ChatCompletionUserMessageParam.Content.ofArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("shot " + n).build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                                        .url("data:image/png;base64,AAA" + n).build())
                                .build()))))
                .build());
    }

    private static List<String> kinds(List<ChatCompletionMessageParam> messages) {
        return messages.stream().skip(1).map(m -> {
            var parts = m.asUser().content().asArrayOfContentParts();
            return parts.get(1).isImageUrl() ? "image" : parts.get(1).asText().text();
        }).toList();
    }

    @Test
    void olderImagesBecomeAPlaceholder() {
        var messages = new ArrayList<ChatCompletionMessageParam>();
        messages.add(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content("the task").build()));
        for (int i = 1; i <= 5; i++) {
            messages.add(screenshot(i));
        }

        int seen = Images.keepNewest(messages, 0);

        assertThat(seen).isEqualTo(5);
        assertThat(kinds(messages)).containsExactly(Images.OMITTED, Images.OMITTED, "image", "image", "image");
        assertThat(messages.getFirst().asUser().content().asText()).isEqualTo("the task");
    }

    @Test
    void imagesCountedInNewerMessagesLeaveLessRoom() {
        var messages = new ArrayList<ChatCompletionMessageParam>(List.of(
                ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content("the task").build()),
                screenshot(1), screenshot(2)));

        Images.keepNewest(messages, Images.KEPT - 1);

        assertThat(kinds(messages)).containsExactly(Images.OMITTED, "image");
    }
}
