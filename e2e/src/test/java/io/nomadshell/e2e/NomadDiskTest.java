package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Nomad sandbox's disk: its root is read-only, and its workspace, /tmp and home are each capped at
 * the job's disk_mb (writing past it fails with ENOSPC), yet programs it builds run and the job
 * still ends with its zip.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NomadDiskTest {
    private static final int DISK_MB = 64;
    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("nomad-disk", dataDir, Integer.toString(DISK_MB))).build().start();
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix);
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void writingPastTheCapFailsWithEnospcAndTheJobStillEndsWithItsZip() {
        var rest = cluster.rest();
        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Fill the disk").put("disk_mb", DISK_MB).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();

        var job = rest.awaitEnd(id, Duration.ofSeconds(180)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        assertThat(job.path("disk_mb").asInt()).isEqualTo(DISK_MB);
        var output = new StringBuilder();
        for (var message : model.receivedRequests().getLast().path("messages")) {
            if (message.path("role").asText().equals("tool")) {
                output.append(message.path("content").asText()).append('\n');
            }
        }
        assertThat(output.toString()).contains(
                "exec-ok",
                "/workspace: No space left on device",
                "/tmp: No space left on device",
                "/home/sandbox: No space left on device",
                "rootfs: Read-only file system");
        var zip = rest.getBytes("/download/" + id);
        assertThat(zip.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsEntry("made.txt", "made\n").containsKey("big");
    }
}
