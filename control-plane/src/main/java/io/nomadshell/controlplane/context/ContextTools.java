package io.nomadshell.controlplane.context;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.models.chat.completions.ChatCompletionTool;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code recall} and {@code notes} tools: their definitions, and their arguments checked. */
public final class ContextTools {
    public static final Set<String> NAMES = Set.of("recall", "notes");
    private static final List<ChatCompletionTool> DEFINITIONS = List.of(
            FunctionTools.of("recall", "Search everything this job has seen so far (your earlier messages and calls, every "
                            + "tool output in full, the workspace's text files), ranked by relevance. Use it when "
                            + "something from earlier steps is no longer in view. With handle and no query, "
                            + "reads that stored output from offset on.",
                    Map.of("query", FunctionTools.string("Words to look for"),
                            "handle", FunctionTools.string("Only this stored output, e.g. o12"),
                            "offset", Map.of("type", "integer", "description", "With handle and no query: first character to read")),
                    List.of()),
            FunctionTools.of("notes", "Your scratchpad, shown to you in every prompt even when older steps are condensed: "
                            + "keep the plan, decisions and facts you must not lose here.",
                    Map.of("text", FunctionTools.string("The new notes"),
                            "mode", Map.of("type", "string", "enum", List.of("replace", "append"),
                                    "description", "replace (default) or append")),
                    List.of("text")));

    private ContextTools() {}

    public static List<ChatCompletionTool> definitions() {
        return DEFINITIONS;
    }

    /**
     * The call the arguments describe.
     *
     * @throws IllegalArgumentException with words for the model when they are wrong
     */
    public static ContextCall parse(String name, JsonNode args) {
        return switch (name) {
            case "recall" -> {
                var query = text(args, "query");
                var handle = text(args, "handle");
                if (query.isBlank() && handle.isBlank()) {
                    throw new IllegalArgumentException("give a query, or the handle of an output to read");
                }
                if (query.isBlank()) {
                    var offset = args.get("offset");
                    if (offset != null && !offset.isNull() && (!offset.canConvertToInt() || offset.asInt() < 0)) {
                        throw new IllegalArgumentException("'offset' must be a whole number from 0");
                    }
                    yield new ContextCall.Read(handle, offset == null || offset.isNull() ? 0 : offset.asInt());
                }
                yield new ContextCall.Search(query, handle.isBlank() ? null : handle);
            }
            case "notes" -> {
                var mode = text(args, "mode");
                if (!mode.isEmpty() && !mode.equals("replace") && !mode.equals("append")) {
                    throw new IllegalArgumentException("'mode' must be replace or append");
                }
                var text = args.get("text");
                if (text == null || !text.isTextual()) {
                    throw new IllegalArgumentException("'text' is required and must be a string");
                }
                yield new ContextCall.Notes(text.asText(), mode.equals("append"));
            }
            default -> throw new IllegalArgumentException("not a context tool: " + name);
        };
    }

    private static String text(JsonNode args, String field) {
        var value = args.get(field);
        if (value == null || value.isNull()) {
            return "";
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' must be a string");
        }
        return value.asText();
    }
}
