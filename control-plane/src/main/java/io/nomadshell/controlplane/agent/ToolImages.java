package io.nomadshell.controlplane.agent;

import com.google.protobuf.ByteString;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.proto.v1.ToolResult;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Lets the model see the images tools return (screenshots, plots). Chat Completions tool messages
 * carry text only, so after a step's tool messages the images go in one user message with image
 * parts ({@code data:image/png;base64,...}). Only the newest {@value #KEPT} images stay in the
 * prompt: older image messages are rewritten to their text with a short placeholder, since a
 * stale screenshot costs many tokens and says little.
 */
final class ToolImages {

    static final int KEPT = 3;
    static final String OMITTED = "[an older image was removed to save context; take a new screenshot to see the screen now]";

    private final List<ChatCompletionContentPart> parts = new ArrayList<>();

    /** Takes the images of one tool call's result, if it has any. */
    void collect(String callId, ToolResult result) {
        List<ByteString> pngs = new ArrayList<>();
        if (result.hasComputer() && !result.getComputer().getPng().isEmpty()) {
            pngs.add(result.getComputer().getPng());
        }
        if (result.hasRunCode()) {
            result.getRunCode().getOutputsList().stream().filter(o -> !o.getPng().isEmpty()).forEach(o -> pngs.add(o.getPng()));
        }
        for (int i = 0; i < pngs.size(); i++) {
            parts.add(text("Image " + (i + 1) + " of " + pngs.size() + " from tool call " + callId + ":"));
            parts.add(ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                    .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                            .url("data:image/png;base64," + Base64.getEncoder().encodeToString(pngs.get(i).toByteArray()))
                            .build())
                    .build()));
        }
    }

    /**
     * Appends the collected images as one user message (after the step's tool messages), then
     * drops all but the newest {@value #KEPT} images of the conversation.
     */
    void appendTo(List<ChatCompletionMessageParam> messages) {
        if (parts.isEmpty()) {
            return;
        }
        messages.add(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                .content(ChatCompletionUserMessageParam.Content.ofArrayOfContentParts(List.copyOf(parts)))
                .build()));
        parts.clear();
        prune(messages);
    }

    /** Replaces every image but the newest {@value #KEPT} with {@link #OMITTED}. */
    static void prune(List<ChatCompletionMessageParam> messages) {
        int seen = 0;
        for (int i = messages.size() - 1; i >= 0; i--) {
            var message = messages.get(i);
            if (!message.isUser()) {
                continue;
            }
            var content = message.asUser().content();
            if (!content.isArrayOfContentParts()) {
                continue;
            }
            var original = content.asArrayOfContentParts();
            var kept = new ArrayList<ChatCompletionContentPart>();
            boolean changed = false;
            for (int p = original.size() - 1; p >= 0; p--) {
                var part = original.get(p);
                if (part.isImageUrl() && ++seen > KEPT) {
                    kept.addFirst(text(OMITTED));
                    changed = true;
                } else {
                    kept.addFirst(part);
                }
            }
            if (changed) {
                messages.set(i, ChatCompletionMessageParam.ofUser(message.asUser().toBuilder()
                        .content(ChatCompletionUserMessageParam.Content.ofArrayOfContentParts(kept))
                        .build()));
            }
        }
    }

    private static ChatCompletionContentPart text(String text) {
        return ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(text).build());
    }
}
