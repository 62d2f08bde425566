package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Checks a chat-completion request body as the real API does and extracts a {@link ChatRequest}.
 * Refusals are {@link ApiException}s worded like OpenAI's.
 */
final class ChatRequestParser {

    /** The ids {@link CompletionBuilder} gives tool calls: {@code call_<turn>_<index>}. */
    private static final Pattern SCRIPTED_CALL_ID = Pattern.compile("call_(\\d{1,9})_\\d+");
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");

    private ChatRequestParser() {
    }

    static ChatRequest parse(JsonNode body) {
        if (!body.isObject()) {
            throw ApiException.invalidRequest("Invalid type for request body: expected an object, but got "
                    + typeName(body) + " instead.");
        }
        String model = model(body.get("model"));
        boolean stream = optionalBoolean(body, "stream");
        boolean includeUsage = stream && includeUsage(body.get("stream_options"));
        OptionalInt outputCap = smaller(positiveInt(body, "max_tokens"), positiveInt(body, "max_completion_tokens"));
        JsonNode messages = body.get("messages");
        if (messages == null || messages.isNull()) {
            throw ApiException.invalidRequest("Missing required parameter: 'messages'.");
        }
        if (!messages.isArray()) {
            throw ApiException.invalidRequest("Invalid type for 'messages': expected an array, but got "
                    + typeName(messages) + " instead.");
        }
        if (messages.isEmpty()) {
            throw ApiException.invalidRequest("Invalid 'messages': empty array. Expected an array with minimum"
                    + " length 1, but got an empty array instead.");
        }

        List<String> promptTexts = new ArrayList<>();
        ToolCallPairing pairing = new ToolCallPairing();
        String conversation = null;
        int assistantMessages = 0;
        int lastScriptedTurn = -1;
        int assistantsSinceScripted = 0;
        StringBuilder systemText = new StringBuilder();
        List<String> toolResults = new ArrayList<>();
        int recentImages = 0;
        int allImages = 0;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String at = "messages[" + i + "]";
            if (!message.isObject()) {
                throw ApiException.invalidRequest("Invalid type for '" + at + "': expected an object, but got "
                        + typeName(message) + " instead.");
            }
            String role = requiredText(message, at, "role");
            int images = ContentParts.check(message.get("content"), at, role);
            allImages += images;
            String content = text(message.get("content"));
            promptTexts.add(content);
            switch (role) {
                case "assistant" -> {
                    Set<String> ids = toolCallIds(message.get("tool_calls"), at, promptTexts);
                    pairing.assistant(i, ids);
                    assistantMessages++;
                    assistantsSinceScripted++;
                    int scripted = scriptedTurn(ids);
                    if (scripted >= 0) {
                        lastScriptedTurn = scripted;
                        assistantsSinceScripted = 0;
                    }
                    toolResults.clear();
                    recentImages = 0;
                }
                case "tool" -> {
                    pairing.tool(i, requiredText(message, at, "tool_call_id"));
                    toolResults.add(content);
                }
                case "user" -> {
                    pairing.other(i);
                    // What the user says after a turn answers it too (a message to a running job).
                    toolResults.add(content);
                    recentImages += images;
                    if (conversation == null) {
                        conversation = content;
                    }
                }
                default -> {
                    if (!ROLES.contains(role)) {
                        throw ApiException.invalidRequest("Invalid value: '" + role + "' at '" + at + ".role'."
                                + " Supported values are: 'system', 'assistant', 'user', 'function', 'tool',"
                                + " and 'developer'.");
                    }
                    pairing.other(i);
                    if (role.equals("system") || role.equals("developer")) {
                        systemText.append(content).append('\n');
                    }
                }
            }
        }
        pairing.finish();
        JsonNode tools = body.get("tools");
        List<String> offeredTools = offeredTools(tools);
        // A client that keeps only the newest messages (a context manager) still gets the next turn:
        // the newest tool call id this server wrote says which turn it answered.
        int turn = lastScriptedTurn >= 0 ? lastScriptedTurn + 1 + assistantsSinceScripted : assistantMessages;
        return new ChatRequest(model, conversation == null ? "" : conversation, turn, systemText.toString(),
                toolResults, recentImages, allImages, offeredTools, tools == null || tools.isNull() ? "" : tools.toString(),
                promptTexts, outputCap, stream, includeUsage);
    }

    /** The turn that wrote these tool call ids, or -1 if they are not this server's. */
    private static int scriptedTurn(Set<String> ids) {
        for (String id : ids) {
            var matcher = SCRIPTED_CALL_ID.matcher(id);
            if (matcher.matches()) {
                return Integer.parseInt(matcher.group(1));
            }
        }
        return -1;
    }

    private static String model(@Nullable JsonNode model) {
        if (model == null || model.isNull()) {
            throw ApiException.invalidRequest("you must provide a model parameter");
        }
        if (!model.isTextual() || model.textValue().isBlank()) {
            throw ApiException.invalidRequest("Invalid type for 'model': expected a non-empty string, but got "
                    + typeName(model) + " instead.");
        }
        return model.textValue();
    }

    private static boolean optionalBoolean(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw ApiException.invalidRequest("Invalid type for '" + field + "': expected a boolean, but got "
                    + typeName(value) + " instead.");
        }
        return value.booleanValue();
    }

    private static boolean includeUsage(@Nullable JsonNode streamOptions) {
        if (streamOptions == null || streamOptions.isNull()) {
            return false;
        }
        if (!streamOptions.isObject()) {
            throw ApiException.invalidRequest("Invalid type for 'stream_options': expected an object, but got "
                    + typeName(streamOptions) + " instead.");
        }
        return optionalBoolean(streamOptions, "include_usage");
    }

    private static OptionalInt positiveInt(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return OptionalInt.empty();
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw ApiException.invalidRequest("Invalid type for '" + field + "': expected an integer, but got "
                    + typeName(value) + " instead.");
        }
        if (value.intValue() < 1) {
            throw ApiException.invalidRequest("Invalid '" + field + "': integer below minimum value. Expected a value"
                    + " >= 1, but got " + value.intValue() + " instead.");
        }
        return OptionalInt.of(value.intValue());
    }

    private static OptionalInt smaller(OptionalInt a, OptionalInt b) {
        if (a.isEmpty()) {
            return b;
        }
        return b.isEmpty() ? a : OptionalInt.of(Math.min(a.getAsInt(), b.getAsInt()));
    }

    /** The ids of an assistant message's tool calls; their arguments join the prompt texts. */
    private static Set<String> toolCallIds(@Nullable JsonNode toolCalls, String at, List<String> promptTexts) {
        if (toolCalls == null || toolCalls.isNull()) {
            return Set.of();
        }
        if (!toolCalls.isArray()) {
            throw ApiException.invalidRequest("Invalid type for '" + at + ".tool_calls': expected an array, but got "
                    + typeName(toolCalls) + " instead.");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int j = 0; j < toolCalls.size(); j++) {
            JsonNode call = toolCalls.get(j);
            String callAt = at + ".tool_calls[" + j + "]";
            if (!call.isObject()) {
                throw ApiException.invalidRequest("Invalid type for '" + callAt + "': expected an object, but got "
                        + typeName(call) + " instead.");
            }
            ids.add(requiredText(call, callAt, "id"));
            JsonNode arguments = call.path("function").get("arguments");
            ToolArguments.requireJson(arguments);
            promptTexts.add(arguments == null || arguments.isNull() ? ""
                    : arguments.isTextual() ? arguments.textValue() : arguments.toString());
        }
        return ids;
    }

    /** The names of the offered tools, each once. */
    private static List<String> offeredTools(@Nullable JsonNode tools) {
        if (tools == null || tools.isNull()) {
            return List.of();
        }
        if (!tools.isArray()) {
            throw ApiException.invalidRequest("Invalid type for 'tools': expected an array, but got "
                    + typeName(tools) + " instead.");
        }
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode tool : tools) {
            // A function tool is {"type":"function","function":{"name":...}}; a custom one keys "custom".
            JsonNode name = tool.path(tool.path("type").asText("function")).get("name");
            if (name != null && name.isTextual()) {
                names.add(name.textValue());
            }
        }
        return List.copyOf(names);
    }

    private static String requiredText(JsonNode node, String at, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw ApiException.invalidRequest("Missing required parameter: '" + at + "." + field + "'.");
        }
        if (!value.isTextual()) {
            throw ApiException.invalidRequest("Invalid type for '" + at + "." + field + "': expected a string, but got "
                    + typeName(value) + " instead.");
        }
        return value.textValue();
    }

    /** A message content's text: a string, or the text parts of an array of content parts. */
    private static String text(@Nullable JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            JsonNode partText = part.get("text");
            if (partText != null && partText.isTextual()) {
                text.append(partText.textValue());
            }
        }
        return text.toString();
    }

    private static String typeName(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL, MISSING -> "null";
            case BINARY -> "binary data";
        };
    }
}
