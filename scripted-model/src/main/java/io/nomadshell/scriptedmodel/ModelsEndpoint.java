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
 */
final class ModelsEndpoint {

    /** The id listed; clients that pick a model from the list get this one. */
    static final String MODEL_ID = "scripted-model";

    private final ObjectMapper mapper;
    private final ObjectNode models;

    ModelsEndpoint(ObjectMapper mapper, Instant created) {
        this.mapper = mapper;
        this.models = JsonNodeFactory.instance.objectNode().put("object", "list");
        models.putArray("data").addObject()
                .put("id", MODEL_ID)
                .put("object", "model")
                .put("created", created.getEpochSecond())
                .put("owned_by", "nomad-shell");
    }

    void handle(HttpExchange exchange) throws IOException {
        HttpExchanges.sendJson(exchange, mapper, 200, models);
    }
}
