package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A seed is kept with its job until a sandbox has unpacked it: a server that stops before that leaves it for the next. */
class SeedRestartTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private ScriptedModelServer model;
    private TestCluster first;
    private TestCluster second;

    @AfterEach
    void stop() {
        if (second != null) second.close();
        if (first != null) first.close();
        if (model != null) model.close();
    }

    @Test
    void aJobWhoseServerStoppedBeforeSeedingIsSeededByTheNext(@TempDir Path tmp) throws Exception {
        var dataDir = tmp.resolve("server").toAbsolutePath();
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("seeded-listing", tmp, "")).build().start();
        var launching = new CountDownLatch(1);
        // The first server's sandboxes never start: it stops while the job's is starting.
        first = TestCluster.startWrapping(dataDir, model.baseUrl(), real -> (SandboxLauncher) spec -> {
            launching.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new LaunchException("the server stopped while the sandbox started");
        });
        var upload = first.rest().post("/v1/uploads", "application/zip", zip(Map.of(
                "README.md", "# seeded\n", "run.sh", "#!/bin/sh\necho run\n", "src/main.py", "print('seeded main')\n")));
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
        var scheduled = first.rest().post("/v1/jobs", "application/json", JSON.createObjectNode().put("task", "list")
                .set("seed", JSON.createObjectNode().put("upload_id", JSON.readTree(upload.body()).path("upload_id").asText()))
                .toString());
        assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(200);
        var id = JSON.readTree(scheduled.body()).path("job_id").asText();
        assertThat(launching.await(60, TimeUnit.SECONDS)).as("the first server launches the job's sandbox").isTrue();
        first.close();
        first = null;

        second = TestCluster.start(dataDir, model.baseUrl(), 1);
        var job = second.rest().awaitEnd(id, Duration.ofSeconds(120)).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        assertThat(Fixtures.unzip(second.rest().getBytes("/download/" + id).body()).keySet())
                .containsExactlyInAnyOrder("README.md", "run.sh", "src/main.py", "notes.txt");
        assertThat(dataDir.resolve("artifacts").resolve(id + ".seed")).as("the seed, once unpacked").doesNotExist();
    }

    private static byte[] zip(Map<String, String> files) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var zip = new ZipArchiveOutputStream(bytes)) {
            for (var file : files.entrySet()) {
                var entry = new ZipArchiveEntry(file.getKey());
                entry.setUnixMode(file.getKey().endsWith(".sh") ? 0100755 : 0100644);
                zip.putArchiveEntry(entry);
                zip.write(file.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
