package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /status/{id}} and {@code GET /v1/jobs/{id}} are answered on the event loop in front of
 * transcoding; a query string sends the same request through the transcoded {@code GetJob}. Both
 * must give the same answer, byte for byte, headers included: a job, another owner's job, no job.
 */
class StatusReadTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theFastReadAnswersExactlyAsTranscodingDoes(@TempDir Path temp) throws Exception {
        try (var model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
                var cluster = TestCluster.start(temp, model.baseUrl(), 1, ApiKeys.of(Set.of("k1", "k2")))) {
            var id = cluster.rest("k1").schedule("Say hello");
            cluster.rest("k1").awaitStatus(id, Rest.ENDED, Duration.ofSeconds(90));

            for (var path : new String[] {"/status/" + id, "/v1/jobs/" + id}) {
                var fast = get(cluster, "k1", path);
                assertThat(fast.statusCode()).as(fast.body()).isEqualTo(200);
                assertThat(Rest.JSON.readTree(fast.body()).path("job_id").asText()).isEqualTo(id);
                assertSame(fast, get(cluster, "k1", path + "?via=transcoding"));
            }
            var strangers = get(cluster, "k2", "/status/" + id);
            assertThat(strangers.statusCode()).isEqualTo(404);
            assertThat(strangers.body()).isEqualTo(
                    "{\"code\":5,\"grpc-code\":\"NOT_FOUND\",\"message\":\"no job with id '" + id + "'\"}");
            assertSame(strangers, get(cluster, "k2", "/status/" + id + "?via=transcoding"));
            var nobody = "jaaaaaaaaaaaaaaaaaaaa";
            assertSame(get(cluster, "k1", "/v1/jobs/" + nobody), get(cluster, "k1", "/v1/jobs/" + nobody + "?via=transcoding"));
            // The guard stands in front of the fast read as of everything else.
            assertThat(get(cluster, "not-a-key", "/status/" + id).statusCode()).isEqualTo(401);
        }
    }

    private static HttpResponse<String> get(TestCluster cluster, String key, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + path))
                .header("Authorization", "Bearer " + key).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void assertSame(HttpResponse<String> fast, HttpResponse<String> transcoded) {
        assertThat(fast.statusCode()).as("status").isEqualTo(transcoded.statusCode());
        assertThat(headers(fast)).as("headers").isEqualTo(headers(transcoded));
        assertThat(fast.body()).as("body").isEqualTo(transcoded.body());
    }

    private static Map<String, ?> headers(HttpResponse<?> response) {
        var headers = new TreeMap<String, Object>(response.headers().map());
        headers.remove("date");
        return headers;
    }
}
