package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job as a conversation, in real bubblewrap sandboxes with the scripted model: messages to a running
 * and to a completed job, pause and resume (across a server restart), rollback and fork from
 * checkpoints. The scripted model's {@code expect} checks that the model was told what it should be.
 */
class SessionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(120);

    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aMessageReachesARunningJobAndContinuesACompletedOne(@TempDir Path tmp) throws Exception {
        var dataDir = tmp.resolve("server");
        start(tmp, dataDir, "session-talk");
        var rest = cluster.rest();
        var id = rest.schedule("Write one.txt");
        var gate = awaitGate(dataDir, id);

        var said = say(rest, id, "Please ALSO-WRITE-TWO");
        assertThat(said.path("status").asText()).isEqualTo("running");
        Files.writeString(gate, "go\n");
        var first = rest.awaitEnd(id, WAIT).last();
        assertThat(first.path("status").asText()).as("%s\n%s", first, Fixtures.history(cluster.port(), id)).isEqualTo("complete");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).containsOnlyKeys("one.txt", "two.txt");

        // The completed job goes on with a message: a new sandbox, its files back from the newest checkpoint.
        var again = say(rest, id, "ROUND-TWO: put both files together");
        assertThat(again.path("status").asText()).isIn("pending", "starting", "running");
        var second = rest.awaitEnd(id, WAIT).last();
        assertThat(second.path("status").asText()).as("%s\n%s", second, Fixtures.history(cluster.port(), id)).isEqualTo("complete");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).isEqualTo(Map.of(
                "one.txt", "one\n", "two.txt", "two\n", "three.txt", "one\ntwo\n"));
        var events = Fixtures.history(cluster.port(), id);
        assertThat(events).contains("user_message { text: \"Please ALSO-WRITE-TWO\" }")
                .contains("user_message { text: \"ROUND-TWO: put both files together\" }");

        assertThat(rest.post("/v1/jobs/" + id + "/messages", "application/json", "{\"text\": \"  \"}").statusCode())
                .as("an empty message").isEqualTo(400);
        assertThat(rest.post("/v1/jobs/no-such-job/messages", "application/json", "{\"text\": \"hi\"}").statusCode())
                .isEqualTo(404);
    }

    @Test
    void aPausedJobHoldsNoSandboxSurvivesARestartAndResumes(@TempDir Path tmp) throws Exception {
        var dataDir = tmp.resolve("server");
        start(tmp, dataDir, "session-pause");
        var rest = cluster.rest();
        var id = rest.schedule("Write a.txt, then b.txt");
        var gate = awaitGate(dataDir, id);

        var pausing = post(rest, "/v1/jobs/" + id + ":pause", "{}");
        assertThat(pausing.path("status").asText()).isEqualTo("running");
        assertThat(pausing.path("pause_requested").asBoolean()).isTrue();
        Files.writeString(gate, "go\n");
        var paused = rest.awaitStatus(id, Set.of("paused"), WAIT).last();
        assertThat(paused.path("checkpoint_step").asInt()).isEqualTo(1);
        assertThat(paused.path("pause_requested").asBoolean()).isFalse();
        awaitNoProcesses(id);

        cluster.close();
        assertThat(dataDir.resolve("workspaces").resolve(id)).as("a paused job's workspace is its checkpoint").doesNotExist();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2);
        rest = cluster.rest();
        assertThat(rest.status(id).path("status").asText()).as("after a restart").isEqualTo("paused");
        assertThat(post(rest, "/v1/jobs/" + id + ":pause", "{}").path("status").asText()).isEqualTo("paused");

        post(rest, "/v1/jobs/" + id + ":resume", "{}");
        var done = rest.awaitEnd(id, WAIT).last();
        assertThat(done.path("status").asText()).as("%s\n%s", done, Fixtures.history(cluster.port(), id)).isEqualTo("complete");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body()))
                .isEqualTo(Map.of("a.txt", "alpha\n", "b.txt", "beta\n"));
        var resumed = rest.post("/v1/jobs/" + id + ":resume", "application/json", "{}");
        assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(400);
        assertThat(resumed.body()).contains("not paused");
    }

    @Test
    void rollbackRestoresAStepsFilesAndConversationAndAForkGoesOnAlone(@TempDir Path tmp) throws Exception {
        var dataDir = tmp.resolve("server");
        start(tmp, dataDir, "session-steps");
        var rest = cluster.rest();
        var id = rest.schedule("Change some files");
        assertThat(rest.awaitEnd(id, WAIT).last().path("status").asText()).isEqualTo("complete");
        var checkpoints = JSON.readTree(rest.get("/v1/jobs/" + id + "/checkpoints").body()).path("checkpoints");
        assertThat(checkpoints.findValuesAsText("step")).containsExactly("1", "2", "3", "4");

        // The fork through the CLI, as a user would: it prints the new job's id alone.
        var server = "127.0.0.1:" + cluster.port();
        var listed = Cli.run(tmp, "checkpoints", "--server", server, id);
        assertThat(listed.exitCode()).as(listed.err()).isZero();
        assertThat(listed.out()).contains("STEP").contains(checkpoints.get(1).path("commit").asText().substring(0, 12));
        var forked = Cli.run(tmp, "fork", "--server", server, id, "--step", "2");
        assertThat(forked.exitCode()).as(forked.err()).isZero();
        var forkId = forked.out().strip();
        assertThat(forkId).isNotEqualTo(id);
        assertThat(rest.status(forkId).path("forked_from").asText()).isEqualTo(id);

        var rolled = post(rest, "/v1/jobs/" + id + ":rollback", "{\"step\": 2}");
        assertThat(rolled.path("status").asText()).isEqualTo("paused");
        assertThat(rolled.path("steps").asInt()).isEqualTo(2);
        var missing = rest.post("/v1/jobs/" + id + ":rollback", "application/json", "{\"step\": 3}");
        assertThat(missing.statusCode()).as("step 3 went with the rollback").isEqualTo(404);
        assertThat(missing.body()).contains("no checkpoint of step 3");

        post(rest, "/v1/jobs/" + id + ":resume", "{}");
        assertThat(rest.awaitEnd(id, WAIT).last().path("status").asText()).isEqualTo("complete");
        assertThat(rest.awaitEnd(forkId, WAIT).last().path("status").asText()).isEqualTo("complete");

        // Every request for turn 2 (after step 2) carries the same history; the first run's, the rolled
        // back job's and the fork's. Step 3 printed the files it found: the same, byte for byte, each time.
        var afterStep2 = requestsWithAssistants(2);
        assertThat(afterStep2).hasSize(3);
        assertThat(afterStep2).allSatisfy(request -> assertThat(request.path("messages"))
                .isEqualTo(afterStep2.get(0).path("messages")));
        var listings = requestsWithAssistants(3).stream().map(SessionsTest::lastToolResult).toList();
        assertThat(listings).hasSize(3);
        assertThat(listings.get(0)).contains("./f.txt", "755 ./run.sh", "./link -> f.txt", "./sub/g.txt");
        assertThat(listings).containsOnly(listings.get(0));
        for (var job : List.of(id, forkId)) {
            assertThat(Fixtures.unzip(rest.getBytes("/download/" + job).body()))
                    .containsEntry("f.txt", "v3\n").doesNotContainKey("sub/g.txt");
        }
    }

    @Test
    void aJobWhoseFilesWentWithItsSandboxGoesOnFromItsNewestCheckpoint(@TempDir Path tmp) throws Exception {
        var dataDir = tmp.resolve("server");
        start(tmp, dataDir, "session-lost-files");
        var id = cluster.rest().schedule("Keep a file");
        awaitGate(dataDir, id);
        assertThat(cluster.rest().status(id).path("checkpoint_step").asInt()).isEqualTo(1);

        // The server stops while step 2 runs, and the job's files are lost with the host's copy.
        cluster.close();
        var workspace = dataDir.resolve("workspaces").resolve(id);
        try (var paths = Files.walk(workspace)) {
            for (var path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2);
        var rest = cluster.rest();
        var done = rest.awaitEnd(id, WAIT).last();
        assertThat(done.path("status").asText()).as("%s\n%s", done, Fixtures.history(cluster.port(), id)).isEqualTo("complete");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).isEqualTo(Map.of("a.txt", "kept\n"));
    }

    private void start(Path tmp, Path dataDir, String scenario) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario(scenario, tmp, "")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2);
    }

    private static JsonNode say(Rest rest, String id, String text) throws Exception {
        return post(rest, "/v1/jobs/" + id + "/messages", JSON.createObjectNode().put("text", text).toString());
    }

    private static JsonNode post(Rest rest, String path, String body) throws Exception {
        var response = rest.post(path, "application/json", body);
        assertThat(response.statusCode()).as("%s: %s", path, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The named pipe the scenario's first step waits on, once it exists. */
    private static Path awaitGate(Path dataDir, String id) {
        var gate = dataDir.resolve("workspaces").resolve(id).resolve("gate");
        var deadline = System.nanoTime() + WAIT.toNanos();
        while (!Files.exists(gate)) {
            assertThat(System.nanoTime()).as("the first step's pipe %s", gate).isLessThan(deadline);
            Rest.sleep(50);
        }
        return gate;
    }

    private static void awaitNoProcesses(String id) {
        var deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Fixtures.processesWith(id).isEmpty()) {
            assertThat(System.nanoTime()).as("processes of paused job %s: %s", id, Fixtures.processesWith(id))
                    .isLessThan(deadline);
            Rest.sleep(100);
        }
    }

    /** The model requests (not summaries) whose history holds exactly {@code n} assistant messages. */
    private List<JsonNode> requestsWithAssistants(int n) {
        var found = new ArrayList<JsonNode>();
        for (var request : model.receivedRequests()) {
            if (request.path("tools").size() > 0 && Fixtures.assistants(request).size() == n) {
                found.add(request);
            }
        }
        return found;
    }

    private static String lastToolResult(JsonNode request) {
        var messages = request.path("messages");
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).path("role").asText().equals("tool")) {
                return messages.get(i).path("content").asText();
            }
        }
        return "";
    }
}
