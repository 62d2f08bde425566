package io.nomadshell.controlplane.context;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import java.util.List;

/**
 * The tokens a message takes in a request: its text (content, or the text parts of a content
 * array), each tool call's name and arguments, and a few tokens of framing per message and call,
 * as the chat format adds them. An image part counts {@value #IMAGE_TOKENS}: what OpenAI charges
 * for a high-detail image up to 1024×1024 is 765, so this is an upper bound for screenshots.
 */
public final class MessageTokens {
    static final int IMAGE_TOKENS = 1_000;
    static final int PER_MESSAGE = 4;
    static final int PER_CALL = 8;
    /** The tokens that start the assistant's answer. */
    static final int REPLY_PRIMING = 3;
    private static final ObjectMapper JSON = ObjectMappers.jsonMapper();

    private MessageTokens() {}

    public static int count(ChatCompletionMessageParam message) {
        JsonNode node = JSON.valueToTree(message);
        int tokens = PER_MESSAGE + content(node.get("content"));
        var calls = node.get("tool_calls");
        if (calls != null && calls.isArray()) {
            for (var call : calls) {
                var function = call.path("function");
                tokens += PER_CALL + Tokens.count(call.path("id").asText(""))
                        + Tokens.count(function.path("name").asText(""))
                        + Tokens.count(function.path("arguments").asText(""));
            }
        }
        return tokens;
    }

    public static int count(List<ChatCompletionMessageParam> messages) {
        return messages.stream().mapToInt(MessageTokens::count).sum();
    }

    /** The tool definitions as sent: their JSON text. */
    public static int countTools(List<ChatCompletionTool> tools) {
        try {
            return Tokens.count(JSON.writeValueAsString(tools));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("tool definitions cannot be written as JSON", e);
        }
    }

    private static int content(JsonNode content) {
        if (content == null || content.isNull()) {
            return 0;
        }
        if (content.isTextual()) {
            return Tokens.count(content.textValue());
        }
        int tokens = 0;
        for (var part : content) {
            if (part.has("text")) {
                tokens += Tokens.count(part.path("text").asText(""));
            } else if (part.has("image_url")) {
                tokens += IMAGE_TOKENS;
            } else {
                tokens += Tokens.count(part.toString());
            }
        }
        return tokens;
    }
}
