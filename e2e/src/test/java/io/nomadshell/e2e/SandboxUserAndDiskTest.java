package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local sandbox as a boundary for what runs inside it as the model's own exec tool: its user
 * is an unprivileged host uid, it can set no sysctl, mount, unshare or ptrace, a set-uid file it
 * leaves is no privilege on the host nor in the zip, and it cannot write past its disk cap.
 */
class SandboxUserAndDiskTest {
    private static final int DISK_MB = 64;
    private static final long MIB = 1L << 20;
    private static final int FIRST_SANDBOX_UID = 1_100_000;

    @TempDir
    Path dataDir;
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aSandboxIsAnUnprivilegedUserWithABoundedDisk() throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("sandbox-user-disk", dataDir, Integer.toString(DISK_MB)))
                .build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
        var rest = cluster.rest();
        long freeBefore = Files.getFileStore(dataDir).getUsableSpace();

        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Probe the sandbox").put("disk_mb", DISK_MB).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();
        var workspace = dataDir.resolve("server/workspaces").resolve(id);
        awaitFile(rest, id, workspace.resolve("probed"));

        // While the sandbox runs with its disk full: the host lost at most the cap.
        long freeDuring = Files.getFileStore(dataDir).getUsableSpace();
        System.out.printf("host free space: %d MiB before, %d MiB with the sandbox's disk full (cap %d MiB)%n",
                freeBefore / MIB, freeDuring / MIB, DISK_MB);
        // Other processes share this disk: allow them a little on top of the cap.
        assertThat(freeBefore - freeDuring).as("host disk used").isLessThanOrEqualTo((DISK_MB + 32) * MIB);
        assertThat(Files.getFileStore(workspace).getTotalSpace()).as("workspace size").isLessThanOrEqualTo(DISK_MB * MIB);
        assertThat(mountOptions(workspace)).as("workspace mount").contains("nosuid", "nodev");

        int owner = (int) Files.getAttribute(workspace.resolve("made.txt"), "unix:uid");
        assertThat(owner).as("host owner of a file the sandbox made").isGreaterThanOrEqualTo(FIRST_SANDBOX_UID);
        var setUid = workspace.resolve("suid-id");
        assertThat((int) Files.getAttribute(setUid, "unix:uid")).isEqualTo(owner);
        assertThat((int) Files.getAttribute(setUid, "unix:mode") & 04000).as("the sandbox's chmod 4755").isNotZero();
        // Run by root on the host: on a nosuid mount the bit gives nothing (else euid would be the owner).
        assertThat(run(setUid.toString(), "-u")).isEqualTo("0");

        Files.createFile(workspace.resolve("go"));
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        assertThat(job.path("disk_mb").asInt()).isEqualTo(DISK_MB);

        assertThat(toolOutput()).contains(
                "sysctl kernel/core_pattern refused",
                "sysctl kernel/modprobe refused",
                "sysctl vm/drop_caches refused",
                "writable sysctls: 0 []",
                "mount: EPERM",
                "unshare-user: EPERM",
                "ptrace-attach: EPERM",
                "io_uring_setup: EPERM",
                "unshare-cmd: unshare: unshare failed: Operation not permitted",
                "suid-id mode 4755",
                "workspace: No space left on device",
                "tmp: No space left on device");

        var zip = rest.getBytes("/download/" + id);
        assertThat(zip.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsEntry("made.txt", "made\n").containsKey("big");
        try (var file = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(zip.body())).get()) {
            assertThat(file.getEntry("suid-id").getUnixMode() & 07777).as("mode in the zip").isEqualTo(0755);
        }
    }

    @Test
    void aDiskAboveTheCapIsRefused() throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("slow-steps", dataDir, "unused"))
                .build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);

        var response = cluster.rest().post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Sleep twice").put("disk_mb", 1 << 20).toString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(Rest.json(response).path("message").asText())
                .isEqualTo("disk_mb 1048576 exceeds this server's cap of 16384 MiB");
    }

    @Test
    void aZipThatWouldOutgrowTheDiskIsNotStored() throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("hard-links", dataDir, "unused"))
                .build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
        var rest = cluster.rest();

        var response = rest.post("/schedule", "application/json", Rest.JSON.createObjectNode()
                .put("task", "Link one file many times").put("disk_mb", DISK_MB).toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("error");
        assertThat(job.path("error").asText()).isEqualTo("the workspace's zip grew past " + (DISK_MB + 16)
                + " MiB, more than the job's disk holds (a zip stores hard links and sparse files whole)");
        var download = rest.get("/download/" + id);
        assertThat(download.statusCode()).as("no zip to download: %s", download.body()).isEqualTo(409);
        assertThat(Rest.json(download).path("message").asText()).isEqualTo("job " + id + " ended (error) and kept "
                + "nothing of its workspace: the workspace's zip grew past " + (DISK_MB + 16) + " MiB, more than the "
                + "job's disk holds (a zip stores hard links and sparse files whole)");
        try (var artifacts = Files.list(Files.createDirectories(dataDir.resolve("server/artifacts")))) {
            assertThat(artifacts.mapToLong(SandboxUserAndDiskTest::size).sum()).as("bytes stored as artifacts")
                    .isLessThanOrEqualTo((DISK_MB + 16) * MIB);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Waits for the sandbox to make {@code file}; fails if the job ends first. */
    private static void awaitFile(Rest rest, String id, Path file) {
        var deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                fail("the sandbox did not make %s within 120 s", file);
            }
            var status = rest.status(id).path("status").asText();
            if (Rest.ENDED.contains(status)) {
                fail("job %s ended as %s before making %s", id, status, file);
            }
            Rest.sleep(100);
        }
    }

    /** The tool results the model received, one after another. */
    private String toolOutput() {
        var out = new StringBuilder();
        for (var message : model.receivedRequests().getLast().path("messages")) {
            if (message.path("role").asText().equals("tool")) {
                out.append(message.path("content").asText()).append('\n');
            }
        }
        return out.toString();
    }

    private static List<String> mountOptions(Path point) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            if (fields[4].equals(point.toString())) {
                return List.of(fields[5].split(","));
            }
        }
        return fail("%s is not a mount point", point);
    }

    private static String run(String... argv) throws Exception {
        var process = new ProcessBuilder(new ArrayList<>(List.of(argv))).redirectErrorStream(true).start();
        var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(process.waitFor()).as("%s: %s", List.of(argv), output).isZero();
        return output;
    }
}
