package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Bad requests get a 4xx status and a JSON body with a message, never a stack trace. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    private final String marker = "marker-" + UUID.randomUUID();
    private ScriptedModelServer model;
    private TestCluster cluster;
    private Rest rest;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("sleep-forever", dataDir, marker)).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2);
        rest = cluster.rest();
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void emptyTaskIs400() {
        assertJsonError(rest.post("/schedule", "application/json", "{\"task\":\"\"}"), 400);
    }

    @Test
    void taskOver64KiBIs400() {
        var task = "a".repeat(64 * 1024 + 1);
        assertJsonError(rest.post("/schedule", "application/json", "{\"task\":\"" + task + "\"}"), 400);
        assertJsonError(rest.post("/schedule", "text/plain", task), 400);
    }

    @Test
    void malformedJsonIs400() {
        var response = rest.post("/schedule", "application/json", "{\"task\": ");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.body()).doesNotContain("Exception", "\tat ");
    }

    @Test
    void unknownJobStatusIs404() {
        assertJsonError(rest.get("/status/jaaaaaaaaaaaaaaaaaaaa"), 404);
    }

    @Test
    void unknownJobDownloadIs404() {
        assertJsonError(rest.get("/download/jaaaaaaaaaaaaaaaaaaaa"), 404);
        assertJsonError(rest.get("/download/unknown"), 404);
    }

    @Test
    void downloadBeforeCompletionIs409() {
        var id = rest.schedule("Sleep for ten minutes");
        try {
            assertJsonError(rest.get("/download/" + id), 409);
            rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(60));
            assertJsonError(rest.get("/download/" + id), 409);
        } finally {
            rest.post("/v1/jobs/" + id + ":cancel", "application/json", "{}");
        }
    }

    private static void assertJsonError(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as("HTTP status, body %s", response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).contains("json"));
        var body = Rest.json(response);
        assertThat(body.path("message").asText("")).as("message in %s", body).isNotBlank();
        assertThat(response.body()).doesNotContain("\tat ", "Exception:");
    }
}
