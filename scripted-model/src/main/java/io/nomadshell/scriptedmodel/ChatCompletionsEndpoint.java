package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;

/** {@code POST /v1/chat/completions}: read, record, check, play the turn, reply. */
final class ChatCompletionsEndpoint {

    /** The largest request body taken, as the real API's limit. */
    static final int MAX_BODY_BYTES = 32 * 1024 * 1024;

    private final ObjectMapper mapper;
    private final RequestLog requestLog;
    private final PromptTokenLog promptTokens;
    private final ScenarioPlayer player;

    ChatCompletionsEndpoint(ObjectMapper mapper, RequestLog requestLog, PromptTokenLog promptTokens,
            ScenarioPlayer player) {
        this.mapper = mapper;
        this.requestLog = requestLog;
        this.promptTokens = promptTokens;
        this.player = player;
    }

    void handle(HttpExchange exchange) throws IOException, InterruptedException {
        JsonNode body = parse(HttpExchanges.readBody(exchange, MAX_BODY_BYTES));
        requestLog.add(body);
        ObjectNode completion = player.reply(ChatRequestParser.parse(body));
        promptTokens.add(completion.path("usage").path("prompt_tokens").asInt());
        HttpExchanges.sendJson(exchange, mapper, 200, completion);
    }

    private JsonNode parse(byte[] bytes) throws IOException {
        try {
            JsonNode body = mapper.readTree(bytes);
            if (body != null && !body.isMissingNode()) {
                return body;
            }
        } catch (JacksonException e) {
            // Answered below, in the real API's words.
        }
        throw ApiException.invalidRequest("We could not parse the JSON body of your request. (HINT: This likely"
                + " means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but"
                + " what was sent was not valid JSON.)");
    }
}
