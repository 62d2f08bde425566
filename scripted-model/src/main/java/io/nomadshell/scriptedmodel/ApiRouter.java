package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each request to its endpoint after the API-key check, and turns every refusal or fault
 * into OpenAI's error body, so a client never sees anything but the real API's shapes.
 */
final class ApiRouter implements HttpHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiRouter.class);

    // Some clients are configured with a base URL that lacks /v1.
    private static final Set<String> CHAT_PATHS = Set.of("/v1/chat/completions", "/chat/completions");
    private static final Set<String> MODELS_PATHS = Set.of("/v1/models", "/models");

    private final ObjectMapper mapper;
    private final BearerAuth auth;
    private final ChatCompletionsEndpoint chat;
    private final ModelsEndpoint models;
    private final PropsEndpoint props;

    ApiRouter(ObjectMapper mapper, BearerAuth auth, ChatCompletionsEndpoint chat, ModelsEndpoint models,
            PropsEndpoint props) {
        this.mapper = mapper;
        this.auth = auth;
        this.chat = chat;
        this.models = models;
        this.props = props;
    }

    @Override
    public void handle(HttpExchange exchange) {
        try (exchange) {
            respond(exchange);
        }
    }

    private void respond(HttpExchange exchange) {
        ApiException refusal;
        try {
            route(exchange);
            return;
        } catch (ApiException e) {
            refusal = e;
        } catch (InterruptedException e) {
            // The server is closing during a delayed turn or a stall; nobody waits for the answer.
            Thread.currentThread().interrupt();
            return;
        } catch (IOException e) {
            log.debug("connection lost while answering {}", exchange.getRequestURI(), e);
            return;
        } catch (RuntimeException e) {
            log.error("the scripted model failed on {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            refusal = new ApiException(500, "server_error", null, "The scripted model failed: " + e);
        }
        try {
            HttpExchanges.sendJson(exchange, mapper, refusal.status(), refusal.body());
        } catch (IOException e) {
            log.debug("connection lost while refusing {}", exchange.getRequestURI(), e);
        }
    }

    private void route(HttpExchange exchange) throws IOException, InterruptedException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        if (method.equals("POST") && CHAT_PATHS.contains(path)) {
            auth.check(exchange.getRequestHeaders().getFirst("Authorization"));
            chat.handle(exchange);
        } else if (method.equals("GET") && MODELS_PATHS.contains(path)) {
            auth.check(exchange.getRequestHeaders().getFirst("Authorization"));
            models.handle(exchange);
        } else if (method.equals("GET") && path.equals("/props")) {
            auth.check(exchange.getRequestHeaders().getFirst("Authorization"));
            props.handle(exchange);
        } else {
            throw new ApiException(404, "invalid_request_error", null, "Invalid URL (" + method + " " + path + ")");
        }
    }
}
