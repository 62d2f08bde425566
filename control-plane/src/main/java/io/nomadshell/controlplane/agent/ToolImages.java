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
import java.util.Optional;

/**
 * Lets the model see the images tools return (screenshots, plots). Chat Completions tool messages
 * carry text only, so after a step's tool messages the images go in one user message with image
 * parts ({@code data:image/png;base64,...}); the job's context keeps only the newest few.
 */
final class ToolImages {
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
            parts.add(ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder()
                    .text("Image " + (i + 1) + " of " + pngs.size() + " from tool call " + callId + ":").build()));
            parts.add(ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                    .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                            .url("data:image/png;base64," + Base64.getEncoder().encodeToString(pngs.get(i).toByteArray()))
                            .build())
                    .build()));
        }
    }

    /** The collected images as one user message, or empty when the step's tools returned none. */
    Optional<ChatCompletionMessageParam> message() {
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                .content(ChatCompletionUserMessageParam.Content.ofArrayOfContentParts(List.copyOf(parts)))
                .build()));
    }
}
