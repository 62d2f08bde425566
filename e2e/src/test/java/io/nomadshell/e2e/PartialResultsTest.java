package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job that fails or is cancelled keeps what its workspace holds: real local sandboxes, the
 * scripted model. The partial zip downloads over REST and gRPC, the status says it is partial, and
 * a job that wrote nothing answers 409 in words.
 */
class PartialResultsTest {
    private final String marker = "partial-" + UUID.randomUUID();
    @TempDir
    Path dataDir;
    private ScriptedModelServer model;
    private TestCluster cluster;

    private Rest start(String scenario) {
        try {
            model = ScriptedModelServer.builder().scenario(Fixtures.scenario(scenario, dataDir, marker)).build().start();
            cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return cluster.rest();
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aJobWhoseModelFailsKeepsWhatItWrote() throws Exception {
        var rest = start("write-then-fail");
        var id = rest.schedule("Write notes, then fail");

        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).contains("this request is refused");
        assertPartialZip(rest, id, job);
        // Watchers were told before the job's end, and told it is partial.
        var events = events(id);
        var ready = events.stream().filter(JobEvent::hasArtifactReady).toList();
        assertThat(ready).as("events %s", events).singleElement()
                .satisfies(event -> assertThat(event.getArtifactReady().getPartial()).isTrue())
                .satisfies(event -> assertThat(event.getArtifactReady().getBytes()).isEqualTo(job.path("artifact_bytes").asLong()));
        assertThat(events.getLast().getStatusChanged().getStatus()).isEqualTo("error");
        // gRPC serves the same zip.
        assertThat(Fixtures.unzip(grpcDownload(id))).containsExactlyEntriesOf(Map.of("notes/plan.txt", marker + "\n"));
    }

    @Test
    void aJobCancelledWhileRunningKeepsWhatItWrote() {
        var rest = start("write-then-sleep");
        var id = rest.schedule("Write notes, then sleep for ten minutes");
        awaitProcess(Duration.ofSeconds(60));

        var cancel = rest.post("/v1/jobs/" + id + ":cancel", "application/json", "{}");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        assertThat(Rest.json(cancel).path("status").asText()).isEqualTo("cancelled");

        // Its runner zips what it left after the cancel: a bounded wait, then the status says so.
        var job = awaitPartial(rest, id, Duration.ofSeconds(60));
        assertThat(job.path("status").asText()).isEqualTo("cancelled");
        assertPartialZip(rest, id, job);
        // A watcher that follows the job to its end sees the zip (it comes after the cancelled status).
        assertThat(events(id)).filteredOn(JobEvent::hasArtifactReady).singleElement()
                .satisfies(event -> assertThat(event.getArtifactReady().getPartial()).isTrue());
    }

    @Test
    void aLostLocalSandboxKeepsWhatItWroteZippedFromTheHost() {
        var rest = start("write-then-kill-daemon");
        var id = rest.schedule("Write notes, then kill the daemon");

        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("job %s\n%s", job, Fixtures.history(cluster.port(), id))
                .isEqualTo("error");
        assertThat(job.path("error").asText()).startsWith("the sandbox was lost: ");
        assertPartialZip(rest, id, job);
    }

    @Test
    void aJobThatWroteNothingLeavesNoZipAndSaysSo() {
        var rest = start("fail-at-once");
        var id = rest.schedule("Fail before writing anything");

        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("artifact_partial").asBoolean(false)).isFalse();
        assertThat(job.path("artifact_bytes").asLong(0)).isZero();
        assertThat(job.path("download_url").asText("")).isEmpty();
        var download = rest.get("/download/" + id);
        assertThat(download.statusCode()).as(download.body()).isEqualTo(409);
        assertThat(Rest.json(download).path("message").asText())
                .isEqualTo("job " + id + " ended (error) and left no files (its workspace was empty)");
    }

    private void assertPartialZip(Rest rest, String id, JsonNode job) {
        assertThat(job.path("artifact_partial").asBoolean(false)).as("job %s", job).isTrue();
        assertThat(job.path("artifact_bytes").asLong(0)).isPositive();
        assertThat(job.path("download_url").asText()).isEqualTo("/download/" + id);
        var zip = rest.getBytes("/download/" + id);
        assertThat(zip.statusCode()).as("GET /download: %s", new String(zip.body())).isEqualTo(200);
        assertThat(zip.headers().firstValue("Content-Type")).hasValue("application/zip");
        assertThat((long) zip.body().length).isEqualTo(job.path("artifact_bytes").asLong());
        assertThat(Fixtures.unzip(zip.body())).containsExactlyEntriesOf(Map.of("notes/plan.txt", marker + "\n"));
    }

    private static JsonNode awaitPartial(Rest rest, String id, Duration timeout) {
        var deadline = System.nanoTime() + timeout.toNanos();
        JsonNode job = null;
        while (System.nanoTime() < deadline) {
            job = rest.status(id);
            if (job.path("artifact_partial").asBoolean(false)) {
                return job;
            }
            var download = rest.get("/download/" + id);
            if (download.statusCode() != 200) { // 200: the zip came since the status was read
                assertThat(download.statusCode()).as(download.body()).isEqualTo(409);
                assertThat(Rest.json(download).path("message").asText()).as("while it is being zipped").isEqualTo(
                        "job " + id + " was cancelled and what it left is being zipped: try again in a few seconds");
            }
            Rest.sleep(100);
        }
        return fail("job %s kept no partial zip within %s: %s", id, timeout, job);
    }

    private void awaitProcess(Duration timeout) {
        var deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!Fixtures.processesWith(marker).isEmpty()) {
                return;
            }
            Rest.sleep(100);
        }
        fail("the job's sleep (%s) never started within %s", marker, timeout);
    }

    /** Every event of the job, followed to its end over gRPC. */
    private List<JobEvent> events(String id) {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
        try {
            var events = new ArrayList<JobEvent>();
            JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(90, TimeUnit.SECONDS)
                    .watchJob(WatchJobRequest.newBuilder().setJobId(id).build()).forEachRemaining(events::add);
            return events;
        } finally {
            channel.shutdownNow();
        }
    }

    private byte[] grpcDownload(String id) throws IOException {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
        try {
            var out = new ByteArrayOutputStream();
            var chunks = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .downloadArtifact(DownloadArtifactRequest.newBuilder().setJobId(id).build());
            while (chunks.hasNext()) {
                chunks.next().getData().writeTo(out);
            }
            return out.toByteArray();
        } finally {
            channel.shutdownNow();
        }
    }
}
