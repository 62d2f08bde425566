package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.ArchiveResult;
import io.nomadshell.proto.v1.ToolEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveToolTest {

    @TempDir
    Path temp;

    @Test
    void zipsRegularFilesSortedAndStreamsThemInChunks() throws Exception {
        Path root = Files.createDirectory(temp.resolve("ws"));
        byte[] noise = new byte[700 * 1024]; // Incompressible, so the zip spans several chunks.
        new Random(42).nextBytes(noise);
        Files.createDirectories(root.resolve("src/app"));
        Files.writeString(root.resolve("src/app/main.py"), "print('hi')\n");
        Files.writeString(root.resolve("README.md"), "# todo\n");
        Files.write(root.resolve("src/noise.bin"), noise);
        Files.createFile(root.resolve("empty"));
        Path script = Files.writeString(root.resolve("run.sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(root.resolve("link-to-readme"), Path.of("README.md"));
        Files.createDirectory(root.resolve("empty-dir"));

        Recorder recorder = new Recorder();
        ArchiveResult result = new ArchiveTool(Workspace.open(root)).run(recorder.forCall("c9"));

        byte[] zip = recorder.archiveBytes();
        assertThat(recorder.events).hasSizeGreaterThanOrEqualTo(3)
                .allSatisfy(e -> assertThat(e.getArchiveChunk().size()).isBetween(1, ArchiveTool.CHUNK_BYTES))
                .extracting(ToolEvent::getCallId).containsOnly("c9");
        assertThat(result.getBytes()).isEqualTo(zip.length);
        assertThat(result.getSha256())
                .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip)));
        assertThat(result.getFiles()).isEqualTo(5);

        Map<String, byte[]> unzipped = new LinkedHashMap<>();
        int scriptMode;
        try (ZipFile file = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(zip)).get()) {
            for (ZipArchiveEntry entry : Collections.list(file.getEntriesInPhysicalOrder())) {
                try (var in = file.getInputStream(entry)) {
                    unzipped.put(entry.getName(), in.readAllBytes());
                }
            }
            scriptMode = file.getEntry("run.sh").getUnixMode() & 0777;
        }
        assertThat(unzipped.keySet())
                .containsExactly("README.md", "empty", "run.sh", "src/app/main.py", "src/noise.bin");
        assertThat(unzipped.get("README.md")).asString().isEqualTo("# todo\n");
        assertThat(unzipped.get("src/app/main.py")).asString().isEqualTo("print('hi')\n");
        assertThat(unzipped.get("src/noise.bin")).isEqualTo(noise);
        assertThat(unzipped.get("empty")).isEmpty();
        assertThat(scriptMode).isEqualTo(0755);
    }

    @Test
    void setUidSetGidAndStickyBitsNeverReachTheZip() throws Exception {
        Path root = Files.createDirectory(temp.resolve("ws"));
        Path tool = Files.writeString(root.resolve("tool"), "#!/bin/sh\n");
        Files.setAttribute(tool, "unix:mode", 07755);
        assertThat((int) Files.getAttribute(tool, "unix:mode") & 07000).as("the file's own bits").isEqualTo(07000);

        Recorder recorder = new Recorder();
        new ArchiveTool(Workspace.open(root)).run(recorder.forCall("c1"));

        try (ZipFile file = ZipFile.builder()
                .setSeekableByteChannel(new SeekableInMemoryByteChannel(recorder.archiveBytes())).get()) {
            assertThat(file.getEntry("tool").getUnixMode()).isEqualTo(0100755);
        }
    }
}
