package io.nomadshell.controlplane.agent;

import com.google.protobuf.ByteString;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.controlplane.context.Images;
import io.nomadshell.proto.v1.ToolResult;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Lets the model see the images tools return (screenshots, plots). Chat Completions tool messages
 * carry text only, so after a step's tool messages the images go in one user message with image
 * parts ({@code data:image/png;base64,...}), each after a line that describes it; the job's context
 * keeps only the newest few. A model that takes no images gets the descriptions alone.
 */
final class ToolImages {

    private final boolean acceptsImages;
    private final List<ChatCompletionContentPart> parts = new ArrayList<>();

    ToolImages(boolean acceptsImages) {
        this.acceptsImages = acceptsImages;
    }

    /** Takes the images of one tool call's result, if it has any. */
    void collect(String callId, ToolResult result) {
        var images = new ArrayList<ByteString>();
        var descriptions = new ArrayList<String>();
        if (result.hasComputer() && !result.getComputer().getPng().isEmpty()) {
            var computer = result.getComputer();
            images.add(computer.getPng());
            var did = computer.getText().strip();
            descriptions.add("a screenshot of " + computer.getImageWidth() + "x" + computer.getImageHeight()
                    + " from computer" + (did.isEmpty() ? "" : " (" + firstLine(did) + ")"));
        }
        if (result.hasRunCode()) {
            result.getRunCode().getOutputsList().stream().filter(o -> !o.getPng().isEmpty()).forEach(o -> {
                images.add(o.getPng());
                descriptions.add("a PNG of " + pngSize(o.getPng()) + " from run_code");
            });
        }
        for (int i = 0; i < images.size(); i++) {
            var line = "Image " + (i + 1) + " of " + images.size() + " from tool call " + callId + ": " + descriptions.get(i)
                    + (acceptsImages ? "" : " " + Images.NOT_SHOWN);
            parts.add(ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(line).build()));
            if (acceptsImages) {
                parts.add(ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                        .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                                .url("data:image/png;base64," + Base64.getEncoder().encodeToString(images.get(i).toByteArray()))
                                .build())
                        .build()));
            }
        }
    }

    /** The collected images as one user message (plain text without images), or empty when the step's tools returned none. */
    Optional<ChatCompletionMessageParam> message() {
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        if (!acceptsImages) {
            var text = String.join("\n", parts.stream().map(part -> part.asText().text()).toList());
            return Optional.of(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content(text).build()));
        }
        return Optional.of(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                .content(ChatCompletionUserMessageParam.Content.ofArrayOfContentParts(List.copyOf(parts)))
                .build()));
    }

    /** Width x height from a PNG's header, or "unknown size". */
    static String pngSize(ByteString png) {
        // Signature (8 bytes), IHDR length and type (8), then width and height, 4 bytes each, big-endian.
        if (png.size() < 24 || png.byteAt(1) != 'P' || png.byteAt(2) != 'N' || png.byteAt(3) != 'G') {
            return "unknown size";
        }
        return readInt(png, 16) + "x" + readInt(png, 20);
    }

    private static long readInt(ByteString bytes, int at) {
        long value = 0;
        for (int i = 0; i < 4; i++) {
            value = (value << 8) | (bytes.byteAt(at + i) & 0xff);
        }
        return value;
    }

    private static String firstLine(String text) {
        int newline = text.indexOf('\n');
        var line = newline < 0 ? text : text.substring(0, newline);
        return line.length() > 160 ? line.substring(0, 160) + "…" : line;
    }
}
