package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;

/** {@code POST /v1/chat/completions}: read, record, check, play the turn, reply whole or streamed. */
final class ChatCompletionsEndpoint {

    /** The largest request body taken, as the real API's limit. */
    static final int MAX_BODY_BYTES = 32 * 1024 * 1024;

    private final ObjectMapper mapper;
    private final RequestLog requestLog;
    private final PromptTokenLog promptTokens;
    private final ScenarioPlayer player;
    private final CompletionBuilder completions;
    private final ChunkStream chunks;
    private final Shutdown shutdown;

    ChatCompletionsEndpoint(ObjectMapper mapper, RequestLog requestLog, PromptTokenLog promptTokens,
            ScenarioPlayer player, CompletionBuilder completions, ChunkStream chunks, Shutdown shutdown) {
        this.mapper = mapper;
        this.requestLog = requestLog;
        this.promptTokens = promptTokens;
        this.player = player;
        this.completions = completions;
        this.chunks = chunks;
        this.shutdown = shutdown;
    }

    void handle(HttpExchange exchange) throws IOException, InterruptedException {
        JsonNode body = parse(HttpExchanges.readBody(exchange, MAX_BODY_BYTES));
        RequestLog.Entry entry = requestLog.add(body);
        ChatRequest request;
        Answer answer;
        try {
            request = ChatRequestParser.parse(body);
            int prompt = player.promptTokens(request);
            entry.counted(prompt);
            answer = player.reply(request, prompt);
        } catch (ApiException e) {
            entry.refused(e.status());
            throw e;
        }
        promptTokens.add(answer.promptTokens());
        if (request.stream()) {
            chunks.send(exchange, request, answer, entry);
            return;
        }
        if (answer.stallAfter() != null) {
            // A plain answer that stalls never comes: the client's own timeout must end the wait.
            shutdown.pause(ChunkStream.STALL_LIMIT);
            return;
        }
        // Recorded before the answer goes out: a client that holds it may at once ask what was recorded.
        entry.finished(answer.completionTokens(), answer.finishReason());
        HttpExchanges.sendJson(exchange, mapper, 200, completions.completion(request, answer));
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
