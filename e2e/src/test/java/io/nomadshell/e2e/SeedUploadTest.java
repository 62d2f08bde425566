package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.MetadataUtils;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.UploadChunk;
import io.nomadshell.proto.v1.UploadResponse;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's workspace seeded from an upload: the first step sees exactly the archive's files (in a real
 * bubblewrap sandbox, listed by the model's own exec call), the zip holds them and what the agent
 * wrote; unsafe or oversized archives are refused with the entry named and leave nothing behind; an
 * upload is its owner's alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeedUploadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long CAP = 1024 * 1024;
    private static final Map<String, String> PROJECT = Map.of(
            "README.md", "# seeded\n",
            "run.sh", "#!/bin/sh\necho run\n",
            "src/main.py", "print('seeded main')\n");

    private ScriptedModelServer model;
    private TestCluster cluster;
    private Path dataDir;
    private ManagedChannel channel;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        dataDir = tmp.resolve("server").toAbsolutePath();
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("seeded-listing", tmp, "")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2, ApiKeys.of(Set.of("k1", "k2")),
                options -> options.seedLimits(new SeedLimits(CAP, 50)));
        channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aJobSeededWithAZipSeesExactlyItsFiles() throws Exception {
        seededJobSees(zip(PROJECT), "zip");
    }

    @Test
    void aJobSeededWithATarGzSeesExactlyItsFiles() throws Exception {
        seededJobSees(tarGz(PROJECT), "tar.gz");
    }

    private void seededJobSees(byte[] archive, String format) throws Exception {
        var rest = cluster.rest("k1");
        var upload = rest.post("/v1/uploads", "application/octet-stream", archive);
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
        var answer = JSON.readTree(upload.body());
        assertThat(answer.path("format").asText()).isEqualTo(format);
        assertThat(answer.path("files").asInt()).isEqualTo(3);
        var uploadId = answer.path("upload_id").asText();

        var scheduled = rest.post("/v1/jobs", "application/json", JSON.createObjectNode()
                .put("task", "List the files you were given, then write notes.txt")
                .set("seed", JSON.createObjectNode().put("upload_id", uploadId)).toString());
        assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(200);
        var id = JSON.readTree(scheduled.body()).path("job_id").asText();
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        var expected = new java.util.HashMap<>(PROJECT);
        expected.put("notes.txt", "seen\n");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).isEqualTo(expected);
        // Seeding is the control plane's call alone: the model is never offered a tool to do it.
        assertThat(model.receivedRequests()).allSatisfy(request ->
                assertThat(request.path("tools").findValuesAsText("name")).contains("exec").doesNotContain("seed"));
        // The upload became the job's: it cannot seed a second job.
        var again = rest.post("/v1/jobs", "application/json", JSON.createObjectNode().put("task", "again")
                .set("seed", JSON.createObjectNode().put("upload_id", uploadId)).toString());
        assertThat(again.statusCode()).as(again.body()).isEqualTo(404);
    }

    @Test
    void aSeedTheSandboxCannotUnpackEndsTheJobInWords() throws Exception {
        // Fine by name (so the upload is taken), but "a" is a file where "a/b" needs a directory.
        var rest = cluster.rest("k1");
        var upload = rest.post("/v1/uploads", "application/zip", zipOf(entry("a", "file"), entry("a/b", "below a file")));
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
        var scheduled = rest.post("/v1/jobs", "application/json", JSON.createObjectNode().put("task", "t")
                .set("seed", JSON.createObjectNode().put("upload_id", JSON.readTree(upload.body()).path("upload_id").asText()))
                .toString());
        var id = JSON.readTree(scheduled.body()).path("job_id").asText();
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).startsWith("the workspace could not be seeded from its archive or repository: ")
                .doesNotContain("Exception");
        assertThat(job.path("steps").asInt()).as("no step ran on a half-seeded workspace").isZero();
    }

    @Test
    void theCliSeedsAJobFromALocalArchive(@TempDir Path temp) throws Exception {
        var archive = Files.write(temp.resolve("project.tar.gz"), tarGz(PROJECT));
        var zip = temp.resolve("out.zip");
        var run = Cli.run(temp, "run", "--server", "127.0.0.1:" + cluster.port(), "--api-key", "k1",
                "--seed", archive.toString(), "-o", zip.toString(), "List the files you were given");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("3 files");
        assertThat(Fixtures.unzip(Files.readAllBytes(zip)).keySet())
                .containsExactlyInAnyOrder("README.md", "run.sh", "src/main.py", "notes.txt");

        var refused = Cli.run(temp, "run", "--server", "127.0.0.1:" + cluster.port(), "--api-key", "k1",
                "--seed", Files.write(temp.resolve("evil.zip"), zipOf(entry("../x", "escape"))).toString(), "t");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("entry '../x' would land outside the workspace").doesNotContain("Exception");
    }

    @Test
    void unsafeArchivesAreRefusedNamingTheEntryAndLeaveNothing() throws Exception {
        var rest = cluster.rest("k2");
        var before = uploadedFiles();
        refused(rest, zipOf(entry("../x", "escape")), 400, "'../x'");
        refused(rest, zipOf(entry("ok.txt", "fine"), entry("/etc/x", "absolute")), 400, "'/etc/x'");
        refused(rest, zipOf(link("evil", "/etc/passwd")), 400, "'evil' is a symbolic link to '/etc/passwd'");
        refused(rest, tarGzOf(tarLink("up", "../../x", TarConstants.LF_SYMLINK)), 400, "'up' is a symbolic link to '../../x'");
        refused(rest, tarGzOf(tarFile("a.txt", "a"), tarLink("hl", "../outside", TarConstants.LF_LINK)), 400,
                "'hl' is a hard link to '../outside'");
        refused(rest, tarGzOf(tarDevice("dev/null")), 400, "'dev/null' is a character device");
        refused(rest, zipOf(entry("bomb.bin", new String(new byte[(int) (3 * CAP)], UTF_8))), 413,
                "'bomb.bin' takes the archive past 1 MiB");
        var many = new ZipPart[60];
        for (int i = 0; i < many.length; i++) {
            many[i] = entry("f" + i, "x");
        }
        refused(rest, zipOf(many), 413, "more than 50 entries");
        refused(rest, "just some text, not an archive".getBytes(UTF_8), 400, "not a zip or tar.gz");

        assertThat(uploadedFiles()).as("files left by refused uploads").isEqualTo(before);
        assertThat(JSON.readTree(rest.get("/v1/jobs").body()).path("jobs")).as("k2's jobs").isEmpty();
    }

    @Test
    void anotherOwnersUploadDoesNotExist() throws Exception {
        var upload = cluster.rest("k1").post("/v1/uploads", "application/zip", zip(PROJECT));
        assertThat(upload.statusCode()).as(upload.body()).isEqualTo(200);
        var uploadId = JSON.readTree(upload.body()).path("upload_id").asText();

        var scheduled = cluster.rest("k2").post("/v1/jobs", "application/json", JSON.createObjectNode().put("task", "t")
                .set("seed", JSON.createObjectNode().put("upload_id", uploadId)).toString());
        assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(404);
        assertThat(scheduled.body()).contains("no upload with id '" + uploadId + "'");
        assertThat(cluster.rest().post("/v1/uploads", "application/zip", zip(PROJECT)).statusCode())
                .as("without a key").isEqualTo(401);
    }

    @Test
    void grpcUploadAnswersWhatItHoldsOrRefusesNamingTheEntry() throws Exception {
        var answer = grpcUpload("k1", zip(PROJECT));
        assertThat(answer.getFiles()).isEqualTo(3);
        assertThat(answer.getUploadId()).startsWith("up-");

        assertThatThrownBy(() -> grpcUpload("k1", zipOf(entry("../x", "escape"))))
                .isInstanceOfSatisfying(StatusException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("'../x'");
                });
        // Past the cap as sent (no archive of 1 MiB unpacked is 2 MiB of random bytes): refused mid-stream.
        var noise = new byte[(int) (2 * CAP)];
        new java.util.Random(7).nextBytes(noise);
        assertThatThrownBy(() -> grpcUpload("k1", noise)).isInstanceOfSatisfying(StatusException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    }

    private java.util.List<Path> uploadedFiles() throws IOException {
        try (Stream<Path> files = Files.walk(dataDir.resolve("artifacts").resolve("uploads"))) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private UploadResponse grpcUpload(String key, byte[] archive) throws Exception {
        var headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        var call = JobServiceGrpc.newBlockingV2Stub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).upload();
        for (int offset = 0; offset < archive.length; offset += 4096) {
            if (!call.write(UploadChunk.newBuilder()
                    .setData(ByteString.copyFrom(archive, offset, Math.min(4096, archive.length - offset))).build())) {
                break;
            }
        }
        call.halfClose();
        return call.read(30, TimeUnit.SECONDS);
    }

    private static void refused(Rest rest, byte[] archive, int status, String words) {
        var response = rest.post("/v1/uploads", "application/octet-stream", archive);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.body()).contains(words);
    }

    // ---- archives ----

    private record ZipPart(String name, String content, boolean symlink) {}

    private static ZipPart entry(String name, String content) {
        return new ZipPart(name, content, false);
    }

    private static ZipPart link(String name, String target) {
        return new ZipPart(name, target, true);
    }

    private static byte[] zip(Map<String, String> files) throws IOException {
        return zipOf(files.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> entry(e.getKey(), e.getValue())).toArray(ZipPart[]::new));
    }

    private static byte[] zipOf(ZipPart... parts) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (var zip = new ZipArchiveOutputStream(bytes)) {
            for (var part : parts) {
                var entry = new ZipArchiveEntry(part.name());
                entry.setUnixMode(part.symlink() ? 0120777 : part.name().endsWith(".sh") ? 0100755 : 0100644);
                zip.putArchiveEntry(entry);
                zip.write(part.content().getBytes(UTF_8));
                zip.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] tarGz(Map<String, String> files) throws IOException {
        return tarGzOf(files.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> tarFile(e.getKey(), e.getValue())).toArray(TarPart[]::new));
    }

    private record TarPart(TarArchiveEntry entry, byte[] content) {}

    private static TarPart tarFile(String name, String content) {
        var entry = new TarArchiveEntry(name);
        var bytes = content.getBytes(UTF_8);
        entry.setSize(bytes.length);
        entry.setMode(name.endsWith(".sh") ? 0100755 : 0100644);
        return new TarPart(entry, bytes);
    }

    private static TarPart tarLink(String name, String target, byte type) {
        var entry = new TarArchiveEntry(name, type);
        entry.setLinkName(target);
        return new TarPart(entry, new byte[0]);
    }

    private static TarPart tarDevice(String name) {
        var entry = new TarArchiveEntry(name, TarConstants.LF_CHR);
        entry.setDevMajor(1);
        entry.setDevMinor(3);
        return new TarPart(entry, new byte[0]);
    }

    private static byte[] tarGzOf(TarPart... parts) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (var tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            for (var part : parts) {
                tar.putArchiveEntry(part.entry());
                tar.write(part.content());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
