package io.nomadshell.controlplane.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostZipTest {
    @TempDir
    Path root;
    @TempDir
    Path outside;

    @Test
    void zipsRegularFilesSortedWithTheirModesAndNeverFollowsLinks() throws Exception {
        Files.writeString(Files.createDirectories(root.resolve("src")).resolve("main.py"), "print(1)\n");
        Files.writeString(root.resolve("run.sh"), "#!/bin/sh\n");
        // Java's permissions cannot say set-uid: chmod can.
        assertThat(new ProcessBuilder("chmod", "4755", root.resolve("run.sh").toString()).start().waitFor()).isZero();
        Files.writeString(outside.resolve("secret"), "host only\n");
        Files.createSymbolicLink(root.resolve("link"), outside.resolve("secret"));
        Files.createSymbolicLink(root.resolve("dir-link"), outside);

        var out = new ByteArrayOutputStream();
        int files = HostZip.write(root, out, Instant.now().plusSeconds(30));

        assertThat(files).isEqualTo(2);
        var entries = entries(out.toByteArray());
        assertThat(entries.keySet()).containsExactly("run.sh", "src/main.py");
        assertThat(entries.get("run.sh").getUnixMode() & 07777).as("no set-uid bit").isEqualTo(0755);
    }

    @Test
    void anEmptyWorkspaceHasNoFiles() throws Exception {
        Files.createDirectories(root.resolve("empty/dir"));
        assertThat(HostZip.write(root, new ByteArrayOutputStream(), Instant.now().plusSeconds(30))).isZero();
    }

    @Test
    void givesUpPastTheDeadline() throws Exception {
        Files.write(root.resolve("big.bin"), new byte[1 << 20]);
        assertThatThrownBy(() -> HostZip.write(root, new ByteArrayOutputStream(), Instant.now().minusSeconds(1)))
                .isInstanceOf(TimeoutException.class);
    }

    private static Map<String, ZipArchiveEntry> entries(byte[] zip) throws Exception {
        var entries = new LinkedHashMap<String, ZipArchiveEntry>();
        try (var file = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(zip)).get()) {
            for (var e = file.getEntries(); e.hasMoreElements(); ) {
                var entry = e.nextElement();
                entries.put(entry.getName(), entry);
                assertThat(new String(file.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8)).isNotEmpty();
            }
        }
        return entries;
    }
}
