package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;

/**
 * {@code GET /props}: llama-server's description of itself, in its shape (server-context.cpp,
 * {@code get_res_props}), with the parts a client reads: the context window
 * ({@code default_generation_settings.n_ctx}), whether the chat template carries tools
 * ({@code chat_template_caps.supports_tools}) and whether it sees images ({@code modalities.vision}).
 */
final class PropsEndpoint {

    private final ObjectMapper mapper;
    private final ObjectNode props;

    PropsEndpoint(ObjectMapper mapper, ModelTraits traits) {
        this.mapper = mapper;
        JsonNodeFactory json = JsonNodeFactory.instance;
        props = json.objectNode();
        ObjectNode settings = props.putObject("default_generation_settings");
        settings.putObject("params").put("n_predict", -1);
        settings.put("n_ctx", traits.contextWindow());
        props.put("total_slots", 1)
                .put("model_alias", ModelsEndpoint.MODEL_ID)
                .put("model_path", ModelsEndpoint.MODEL_ID + ".gguf");
        props.putObject("modalities")
                .put("vision", traits.acceptsImages())
                .put("video", false)
                .put("audio", false);
        props.put("chat_template", traits.toolsSupported() ? "{# a template with tools #}" : "{# plain ChatML #}");
        boolean tools = traits.toolsSupported();
        props.putObject("chat_template_caps")
                .put("supports_string_content", true)
                .put("supports_typed_content", false)
                .put("supports_tools", tools)
                .put("supports_tool_calls", tools)
                .put("supports_parallel_tool_calls", tools)
                .put("supports_system_role", true);
        props.put("build_info", "scripted-model")
                .put("is_sleeping", false);
    }

    void handle(HttpExchange exchange) throws IOException {
        HttpExchanges.sendJson(exchange, mapper, 200, props);
    }
}
