package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoints attacked from inside a real sandbox, through the model's own exec: the sandbox's
 * checkpoint repository is the agent's to spoil, and what the daemon sends from it is untrusted.
 * A forged commit whose tree climbs out ({@code ..}) and names {@code .git} rides along as the
 * parent of the next checkpoint: the control plane keeps it as data and never writes a checkpoint's
 * files on its host. Rewriting 10 MiB of random bytes each step cannot grow the job's checkpoints on
 * the host's disk past their budget (twice the job's disk): later checkpoints are refused, the job
 * goes on and completes.
 */
class CheckpointAttackTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DISK_MB = 64;

    @Test
    void aForgedRepositoryStaysDataAndCheckpointsKeepToTheirBudget(@TempDir Path tmp) throws Exception {
        var marker = "marker-" + UUID.randomUUID();
        var dataDir = tmp.resolve("server");
        try (var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("checkpoint-attack", tmp, marker))
                        .build().start();
                var cluster = TestCluster.start(dataDir, model.baseUrl(), 1)) {
            var rest = cluster.rest();
            var scheduled = rest.post("/v1/jobs", "application/json", JSON.createObjectNode()
                    .put("task", "Attack the checkpoints").put("disk_mb", DISK_MB).toString());
            assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(200);
            var id = JSON.readTree(scheduled.body()).path("job_id").asText();
            var job = rest.awaitEnd(id, Duration.ofMinutes(4)).last();
            assertThat(job.path("status").asText()).as("%s\n%s", job, Fixtures.history(cluster.port(), id))
                    .isEqualTo("complete");

            // Steps 1 and 2 (the forgery) and steps 3 to 16 (14 × 10 MiB of history) fit the budget of
            // 2 × 64 + 16 MiB; step 17 would take it to 150 MiB, and the finish step carries it too.
            var steps = JSON.readTree(rest.get("/v1/jobs/" + id + "/checkpoints").body()).path("checkpoints")
                    .findValuesAsText("step");
            assertThat(steps).containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, 16)
                    .mapToObj(Integer::toString).toList());
            assertThat(Fixtures.history(cluster.port(), id)).as("the forgery ran").contains("text: \"forged ");
            var repository = dataDir.resolve("artifacts").resolve(id + ".checkpoints.git");
            var subjects = new ProcessBuilder("git", "--git-dir=" + repository, "log", "--all", "--format=%s")
                    .redirectErrorStream(true).start();
            assertThat(new String(subjects.getInputStream().readAllBytes())).as("the forged commit is kept, as data")
                    .contains("forged");
            assertThat(sizeOf(repository)).as("the job's checkpoints on the host").isLessThanOrEqualTo((2L * DISK_MB + 16) << 20);
            // The forged tree is never written out as files: not beside the repository, not anywhere under the data dir.
            try (var paths = Files.walk(dataDir)) {
                assertThat(paths.filter(path -> path.getFileName().toString().equals("escape-marker")).toList()).isEmpty();
            }
            assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).containsOnlyKeys("a.txt", "big.bin");

            // What was kept can be gone back to: step 16's files come back in a new sandbox, without the forgery.
            assertThat(rest.post("/v1/jobs/" + id + ":rollback", "application/json", "{\"step\": 16}").statusCode())
                    .isEqualTo(200);
            assertThat(rest.post("/v1/jobs/" + id + ":resume", "application/json", "{}").statusCode()).isEqualTo(200);
            var again = rest.awaitEnd(id, Duration.ofMinutes(4)).last();
            assertThat(again.path("status").asText()).as("%s\n%s", again, Fixtures.history(cluster.port(), id))
                    .isEqualTo("complete");
        }
    }

    private static long sizeOf(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            return paths.filter(Files::isRegularFile).mapToLong(path -> path.toFile().length()).sum();
        }
    }
}
