package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Instant;

/**
 * {@code GET /v1/models}: the one model this server offers. Chat requests may name any model;
 * the name is only echoed.
 *
 * <p>The entry tells the context window as the servers that tell it do: vLLM's
 * {@code max_model_len}, and llama-server's {@code meta.n_ctx} (the window it serves) beside
 * {@code meta.n_ctx_train} (the window the model was trained for, usually larger).
 */
final class ModelsEndpoint {

    /** The id listed; clients that pick a model from the list get this one. */
    static final String MODEL_ID = "scripted-model";

    /** The trained window reported: larger than the served one, as with most GGUF models. */
    static final int TRAINED_CONTEXT = 131_072;

    private final ObjectMapper mapper;
    private final ObjectNode models;

    ModelsEndpoint(ObjectMapper mapper, Instant created, ModelTraits traits) {
        this.mapper = mapper;
        this.models = JsonNodeFactory.instance.objectNode().put("object", "list");
        ObjectNode model = models.putArray("data").addObject()
                .put("id", MODEL_ID)
                .put("object", "model")
                .put("created", created.getEpochSecond())
                .put("owned_by", "nomad-shell")
                .put("max_model_len", traits.contextWindow());
        model.putObject("meta")
                .put("n_ctx", traits.contextWindow())
                .put("n_ctx_train", Math.max(TRAINED_CONTEXT, traits.contextWindow()));
    }

    void handle(HttpExchange exchange) throws IOException {
        HttpExchanges.sendJson(exchange, mapper, 200, models);
    }
}
