package io.nomadshell.controlplane.context;

import com.openai.core.JsonValue;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionTool;
import java.util.List;
import java.util.Map;

/**
 * Builds the function-tool definitions the model is offered (a JSON-schema object of parameters),
 * for the sandbox tools and the context's own alike.
 */
public final class FunctionTools {
    private FunctionTools() {}

    public static ChatCompletionTool of(String name, String description, Map<String, Object> properties,
            List<String> required) {
        var parameters = FunctionParameters.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(properties))
                .putAdditionalProperty("required", JsonValue.from(required))
                .build();
        return ChatCompletionTool.ofFunction(ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder().name(name).description(description).parameters(parameters).build())
                .build());
    }

    /** A string parameter. */
    public static Map<String, Object> string(String description) {
        return Map.of("type", "string", "description", description);
    }
}
