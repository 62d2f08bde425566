package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files a job keeps (its zip, a partial zip, its screenshots) download through any replica. Two
 * real server processes on one Redis, each with a data dir of its own, local bubblewrap sandboxes, the
 * scripted model: replica A runs two jobs (one completes, one is cancelled and keeps a partial zip),
 * so their files are on A's disk only. Through B, each arrives byte for byte as A serves it, over REST
 * and gRPC: B carries the request to A over the signed peer link. Once A has stopped, B says in words
 * that the replica with that disk is not running (503, {@code UNAVAILABLE}), not that the file is gone.
 */
class ReplicaDownloadTest {
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);

    @TempDir
    Path tmp;

    @Test
    void aJobsFilesOnOneReplicasDiskDownloadThroughTheOther() throws Exception {
        var marker = "replica-download-" + UUID.randomUUID();
        // 6 MB that do not compress: a zip of many chunks and many TCP windows between the replicas.
        var scenario = Files.writeString(tmp.resolve("files.json"), """
                {"name": "files",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "head -c 6000000 /dev/urandom > big.bin && echo %s > notes.txt"}}]},
                   {"tool_calls": [{"name": "computer", "arguments": {"action": "screenshot"}}]},
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "sleep 20"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "kept files"}}]}
                 ]}
                """.formatted(marker));
        try (var redis = EmbeddedRedis.start(tmp.resolve("redis"));
                var connection = RedisConnection.connect(redis.url(), "replica-download-test");
                var model = ScriptedModelServer.builder().scenario(Scenario.load(scenario)).build().start();
                var a = ServerProcess.start(Files.createDirectories(tmp.resolve("a")), redis.url(), model.baseUrl(),
                        tmp.resolve("a.log"))) {
            var completing = a.rest().schedule("Keep a zip and a screenshot");
            var cancelled = a.rest().schedule("Keep a partial zip");
            a.rest().awaitStatus(completing, Set.of("running"), JOB_TIMEOUT);
            a.rest().awaitStatus(cancelled, Set.of("running"), JOB_TIMEOUT);
            // B starts once A holds both jobs, so their sandboxes and files are A's.
            try (var b = ServerProcess.start(Files.createDirectories(tmp.resolve("b")), redis.url(), model.baseUrl(),
                    tmp.resolve("b.log"))) {
                awaitSteps(a.rest(), cancelled, 3);
                var cancel = b.rest().post("/v1/jobs/" + cancelled + ":cancel", "application/json", "{}");
                assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
                var done = a.rest().awaitEnd(completing, JOB_TIMEOUT).last();
                assertThat(done.path("status").asText()).as("%s\n%s", done, a.tail()).isEqualTo("complete");
                awaitPartial(a.rest(), cancelled);

                var zipOnA = download(a.rest(), completing);
                assertThat((long) zipOnA.length).isEqualTo(done.path("artifact_bytes").asLong());
                assertThat(Fixtures.unzip(zipOnA)).containsEntry("notes.txt", marker + "\n").containsKey("big.bin");
                assertThat(Files.exists(tmp.resolve("b").resolve("artifacts").resolve(completing + ".zip")))
                        .as("the zip is on A's disk only").isFalse();

                assertThat(download(b.rest(), completing)).as("the zip through B (REST)").isEqualTo(zipOnA);
                assertThat(grpcDownload(b.port(), completing)).as("the zip through B (gRPC)").isEqualTo(zipOnA);
                var partialOnA = download(a.rest(), cancelled);
                assertThat(Fixtures.unzip(partialOnA)).containsEntry("notes.txt", marker + "\n");
                assertThat(download(b.rest(), cancelled)).as("the partial zip through B").isEqualTo(partialOnA);
                var screenshot = screenshotUrl(new JobStore(connection), completing);
                var pngOnA = a.rest().getBytes(screenshot);
                assertThat(pngOnA.statusCode()).isEqualTo(200);
                var pngOnB = b.rest().getBytes(screenshot);
                assertThat(pngOnB.statusCode()).as(new String(pngOnB.body())).isEqualTo(200);
                assertThat(pngOnB.headers().firstValue("content-type")).hasValue("image/png");
                assertThat(pngOnB.body()).as("the screenshot through B").isEqualTo(pngOnA.body());

                assertThat(a.stop()).as("A stops cleanly\n%s", a.tail()).isTrue();
                var gone = b.rest().get("/download/" + completing);
                assertThat(gone.statusCode()).as(gone.body()).isEqualTo(503);
                var says = Rest.json(gone).path("message").asText();
                assertThat(says).startsWith("The zip of job " + completing + " is kept on the disk of another "
                        + "control plane").contains("no control plane with that disk is running now");
                assertThatThrownBy(() -> grpcDownload(b.port(), completing))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).isEqualTo(says);
                        });
                var shotGone = b.rest().get(screenshot);
                assertThat(shotGone.statusCode()).as(shotGone.body()).isEqualTo(503);
                assertThat(Rest.json(shotGone).path("message").asText()).startsWith("The screenshot ");
            }
        }
    }

    private static byte[] download(Rest rest, String job) {
        var zip = rest.getBytes("/download/" + job);
        assertThat(zip.statusCode()).as("GET /download/%s: %s", job, new String(zip.body())).isEqualTo(200);
        assertThat(zip.headers().firstValue("Content-Type")).hasValue("application/zip");
        assertThat(zip.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"" + job + ".zip\"");
        return zip.body();
    }

    private static byte[] grpcDownload(int port, String job) throws InterruptedException {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
        try {
            var zip = new ByteArrayOutputStream();
            JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .downloadArtifact(DownloadArtifactRequest.newBuilder().setJobId(job).build())
                    .forEachRemaining(chunk -> zip.writeBytes(chunk.getData().toByteArray()));
            return zip.toByteArray();
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static String screenshotUrl(JobStore store, String job) {
        var shots = store.eventsAfter(job, 0, 10_000).stream().filter(JobEvent::hasScreenshot).toList();
        assertThat(shots).as("the job's screenshot events").hasSize(1);
        return shots.getFirst().getScreenshot().getUrl();
    }

    private static void awaitSteps(Rest rest, String job, int steps) {
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (rest.status(job).path("steps").asInt() < steps && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(rest.status(job).path("steps").asInt()).as("%s", rest.status(job)).isGreaterThanOrEqualTo(steps);
    }

    private static void awaitPartial(Rest rest, String job) {
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (!rest.status(job).path("artifact_partial").asBoolean(false) && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(rest.status(job).path("artifact_partial").asBoolean(false)).as("%s", rest.status(job)).isTrue();
    }
}
