package io.nomadshell.scriptedmodel;

import static io.nomadshell.scriptedmodel.Chat.request;
import static io.nomadshell.scriptedmodel.Chat.user;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With a key configured, every endpoint wants {@code Authorization: Bearer <key>}. */
class ApiKeyTest {

    private static final ObjectNode VALID = request(List.of(user("go")), "read_file");

    private static ScriptedModelServer server;

    @BeforeAll
    static void start() throws IOException {
        server = ScriptedModelServer.builder()
                .scenario(new Scenario("keyed", List.of(Turn.calling(new ToolCall("read_file", "{}")))))
                .apiKey("sk-test-123")
                .build()
                .start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void missingKeyIsUnauthorized() {
        RawHttp.Response response = new RawHttp(server).chat(VALID);

        assertUnauthorized(response, "You didn't provide an API key.");
    }

    @Test
    void wrongKeyIsUnauthorized() {
        RawHttp.Response response = new RawHttp(server, "sk-test-124").chat(VALID);

        assertUnauthorized(response, "Incorrect API key provided.");
        assertThat(response.body().path("error").path("code").asText()).isEqualTo("invalid_api_key");
    }

    @Test
    void wrongKeyIsUnauthorizedOnTheModelList() {
        assertUnauthorized(new RawHttp(server, "nope").get("/v1/models"), "Incorrect API key provided.");
    }

    @Test
    void rightKeyIsServed() {
        RawHttp http = new RawHttp(server, "sk-test-123");

        assertThat(http.chat(VALID).status()).isEqualTo(200);
        assertThat(http.get("/v1/models").status()).isEqualTo(200);
    }

    private static void assertUnauthorized(RawHttp.Response response, String message) {
        assertThat(response.status()).isEqualTo(401);
        assertThat(response.errorMessage()).startsWith(message);
        assertThat(response.body().path("error").path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(response.body().path("error").path("param").isNull()).isTrue();
    }
}
