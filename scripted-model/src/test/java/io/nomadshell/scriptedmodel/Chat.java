package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Chat-completion request bodies, built as JSON, for raw-HTTP tests. */
final class Chat {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private Chat() {
    }

    static ObjectNode system(String content) {
        return JSON.objectNode().put("role", "system").put("content", content);
    }

    static ObjectNode user(String content) {
        return JSON.objectNode().put("role", "user").put("content", content);
    }

    /** An assistant message calling {@code toolName} once per id. */
    static ObjectNode assistantCalling(String toolName, String... ids) {
        ObjectNode message = JSON.objectNode().put("role", "assistant");
        message.putNull("content");
        ArrayNode calls = message.putArray("tool_calls");
        for (String id : ids) {
            ObjectNode call = calls.addObject().put("id", id).put("type", "function");
            call.putObject("function").put("name", toolName).put("arguments", "{\"path\":\"x\"}");
        }
        return message;
    }

    static ObjectNode assistant(String content) {
        return JSON.objectNode().put("role", "assistant").put("content", content);
    }

    static ObjectNode tool(String toolCallId, String content) {
        return JSON.objectNode().put("role", "tool").put("tool_call_id", toolCallId).put("content", content);
    }

    /** The tools array offering functions with these names. */
    static ArrayNode tools(String... names) {
        ArrayNode tools = JSON.arrayNode();
        for (String name : names) {
            ObjectNode function = tools.addObject().put("type", "function").putObject("function");
            function.put("name", name).put("description", "the " + name + " tool");
            function.putObject("parameters").put("type", "object").putObject("properties");
        }
        return tools;
    }

    /** A request for model "m" with these messages, offering the tools named. */
    static ObjectNode request(List<ObjectNode> messages, String... toolNames) {
        ObjectNode request = JSON.objectNode().put("model", "m");
        request.putArray("messages").addAll(messages);
        if (toolNames.length > 0) {
            request.set("tools", tools(toolNames));
        }
        return request;
    }

    /** A user message of a text part and an image part with {@code url}. */
    static ObjectNode userWithImage(String text, String url) {
        ObjectNode message = JSON.objectNode().put("role", "user");
        var parts = message.putArray("content");
        parts.addObject().put("type", "text").put("text", text);
        parts.addObject().put("type", "image_url").putObject("image_url").put("url", url);
        return message;
    }
}
