package io.nomadshell.scriptedmodel;

import static io.nomadshell.scriptedmodel.Chat.assistant;
import static io.nomadshell.scriptedmodel.Chat.assistantCalling;
import static io.nomadshell.scriptedmodel.Chat.request;
import static io.nomadshell.scriptedmodel.Chat.system;
import static io.nomadshell.scriptedmodel.Chat.tool;
import static io.nomadshell.scriptedmodel.Chat.user;
import static io.nomadshell.scriptedmodel.Chat.userWithImage;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Requests the real API refuses are refused here too, with the same status and error body. */
class RequestValidationTest {

    private static ScriptedModelServer server;
    private static RawHttp http;

    @BeforeAll
    static void start() throws IOException {
        // Every turn calls read_file, so a valid request of any length up to 3 turns succeeds.
        server = ScriptedModelServer.builder().scenario(new Scenario("three-reads", List.of(
                Turn.calling(new ToolCall("read_file", "{\"path\":\"a\"}")),
                Turn.calling(new ToolCall("read_file", "{\"path\":\"b\"}")),
                Turn.calling(new ToolCall("read_file", "{\"path\":\"c\"}"))))).build().start();
        http = new RawHttp(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aValidConversationIsAccepted() {
        RawHttp.Response response = http.chat(request(List.of(system("be brief"), user("go"),
                assistantCalling("read_file", "c1", "c2"), tool("c2", "two"), tool("c1", "one"),
                assistant("read both"), user("again")), "read_file"));

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body().path("object").asText()).isEqualTo("chat.completion");
    }

    @Test
    void bodyThatIsNotJsonIsRefused() {
        assertRefused(http.post("/v1/chat/completions", "{\"model\": \"m\", \"messages\": ["),
                400, "We could not parse the JSON body of your request.");
    }

    @Test
    void emptyBodyIsRefused() {
        assertRefused(http.post("/v1/chat/completions", ""), 400, "We could not parse the JSON body");
    }

    @Test
    void missingModelIsRefused() {
        ObjectNode body = request(List.of(user("go")), "read_file");
        body.remove("model");

        assertRefused(http.chat(body), 400, "you must provide a model parameter");
    }

    @Test
    void missingMessagesAreRefused() {
        ObjectNode body = request(List.of(user("go")), "read_file");
        body.remove("messages");

        assertRefused(http.chat(body), 400, "Missing required parameter: 'messages'.");
    }

    @Test
    void emptyMessagesAreRefused() {
        assertRefused(http.chat(request(List.of(), "read_file")), 400, "Invalid 'messages': empty array.");
    }

    @Test
    void unknownRoleIsRefused() {
        ObjectNode robot = user("beep").put("role", "robot");

        assertRefused(http.chat(request(List.of(user("go"), robot), "read_file")), 400,
                "Invalid value: 'robot' at 'messages[1].role'.");
    }

    @Test
    void toolMessageWithoutAPrecedingToolCallIsRefused() {
        assertRefused(http.chat(request(List.of(user("go"), tool("c1", "out")), "read_file")), 400,
                "messages[1].tool_call_id 'c1' answers no open tool call of the preceding assistant message");
    }

    @Test
    void toolMessageAnsweringAnotherIdIsRefused() {
        assertRefused(http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1"), tool("c9", "out")),
                "read_file")), 400, "messages[2].tool_call_id 'c9' answers no open tool call");
    }

    @Test
    void toolMessageAnsweringAnOlderAssistantMessageIsRefused() {
        assertRefused(http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1"), tool("c1", "one"),
                assistant("ok"), tool("c1", "again")), "read_file")), 400,
                "messages[4].tool_call_id 'c1' answers no open tool call");
    }

    @Test
    void unansweredToolCallBeforeTheNextMessageIsRefused() {
        assertRefused(http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1", "c2"),
                tool("c1", "one"), user("and?")), "read_file")), 400,
                "The following tool_call_ids did not have response messages before messages[3]: c2");
    }

    @Test
    void unansweredToolCallAtTheEndIsRefused() {
        assertRefused(http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1")), "read_file")),
                400, "The following tool_call_ids did not have response messages: c1");
    }

    @Test
    void streamThatIsNotABooleanIsRefused() {
        ObjectNode body = request(List.of(user("go")), "read_file").put("stream", "yes");

        assertRefused(http.chat(body), 400, "Invalid type for 'stream': expected a boolean, but got a string instead.");
    }

    @Test
    void outputCapBelowOneIsRefused() {
        assertRefused(http.chat(request(List.of(user("go")), "read_file").put("max_tokens", 0)), 400,
                "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.");
        assertRefused(http.chat(request(List.of(user("go")), "read_file").put("max_completion_tokens", "9")), 400,
                "Invalid type for 'max_completion_tokens': expected an integer, but got a string instead.");
    }

    @Test
    void streamFalseIsAccepted() {
        ObjectNode body = request(List.of(user("go")), "read_file").put("stream", false);

        assertThat(http.chat(body).status()).isEqualTo(200);
    }

    @Test
    void bodyOver32MibIsTooLarge() {
        byte[] body = new byte[ChatCompletionsEndpoint.MAX_BODY_BYTES + 1];
        Arrays.fill(body, (byte) ' ');

        assertRefused(http.post("/v1/chat/completions", body), 413, "Request body too large");
    }

    @Test
    void bodyOfExactly32MibIsRead() {
        byte[] json = request(List.of(user("go")), "read_file").toString().getBytes();
        byte[] body = new byte[ChatCompletionsEndpoint.MAX_BODY_BYTES];
        Arrays.fill(body, (byte) ' ');
        System.arraycopy(json, 0, body, 0, json.length);

        assertThat(http.post("/v1/chat/completions", body).status()).isEqualTo(200);
    }

    @Test
    void unknownPathIsNotFound() {
        assertRefused(http.post("/v1/completions", request(List.of(user("go")))), 404,
                "Invalid URL (POST /v1/completions)");
        assertRefused(http.get("/v1/chat/completions"), 404, "Invalid URL (GET /v1/chat/completions)");
    }

    /** The status, and OpenAI's error body: message, type, param, code. */
    @Test
    void anImageAfterTheToolMessagesIsAccepted() {
        RawHttp.Response response = http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1"),
                tool("c1", "one"), userWithImage("the screenshot:", "data:image/png;base64,iVBORw0KGgo=")), "read_file"));

        assertThat(response.status()).as("%s", response.body()).isEqualTo(200);
    }

    @Test
    void anImageInAToolMessageIsRefused() {
        ObjectNode toolWithImage = userWithImage("x", "data:image/png;base64,iVBORw0KGgo=")
                .put("role", "tool").put("tool_call_id", "c1");

        assertRefused(http.chat(request(List.of(user("go"), assistantCalling("read_file", "c1"), toolWithImage),
                "read_file")), 400, "image_url parts are only allowed in messages with role 'user'");
    }

    @Test
    void anImageUrlThatIsNotAnImageDataUrlIsRefused() {
        assertRefused(http.chat(request(List.of(userWithImage("x", "data:text/plain;base64,aGk=")), "read_file")),
                400, "Expected a base64-encoded data URL with an image MIME type");
        assertRefused(http.chat(request(List.of(userWithImage("x", "data:image/png;base64,%%%")), "read_file")),
                400, "Please make sure your image is valid base64 data.");
    }

    static void assertRefused(RawHttp.Response response, int status, String message) {
        assertThat(response.status()).as("status of %s", response.body()).isEqualTo(status);
        assertThat(response.errorMessage()).contains(message);
        assertThat(response.body().path("error").path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(response.body().path("error").path("param").isNull()).isTrue();
        assertThat(response.body().path("error").has("code")).isTrue();
        assertThat(response.body().size()).isEqualTo(1);
    }
}
