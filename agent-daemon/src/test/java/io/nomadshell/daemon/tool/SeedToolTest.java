package io.nomadshell.daemon.tool;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.SeedAction;
import io.nomadshell.proto.v1.SeedResult;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeding inside the sandbox: chunks in order, unpacked within the workspace and the caps, entries checked again. */
class SeedToolTest {
    @TempDir
    Path temp;

    private Path root;
    private SeedTool seed;

    @BeforeEach
    void setUp() throws Exception {
        var workspace = Workspace.open(Files.createDirectory(temp.resolve("ws")));
        root = workspace.root();
        seed = new SeedTool(workspace);
    }

    @Test
    void unpacksAnArchiveSentInChunks() throws Exception {
        var archive = zip("src/a.txt", "hello", "run.sh", "#!/bin/sh\n");
        var result = send(archive, 7, 1 << 20);
        assertThat(result.getFiles()).isEqualTo(2);
        assertThat(Files.readString(root.resolve("src/a.txt"))).isEqualTo("hello");
        assertThat(Files.isExecutable(root.resolve("run.sh"))).isTrue();
    }

    @Test
    void aSecondSeedFromOffsetZeroStartsOverAndReplacesTheFiles() throws Exception {
        var first = zip("a.txt", "one");
        seed.run(SeedAction.newBuilder().setOffset(0).setData(ByteString.copyFrom(first, 0, 10)).build());
        // The control plane failed over before the last chunk: the next one seeds again from the start.
        send(zip("a.txt", "two"), 1 << 20, 1 << 20);
        assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("two");
    }

    @Test
    void aChunkOutOfOrderIsRefused() throws Exception {
        var archive = zip("a.txt", "one");
        seed.run(SeedAction.newBuilder().setOffset(0).setData(ByteString.copyFrom(archive, 0, 10)).build());
        assertThatThrownBy(() -> seed.run(SeedAction.newBuilder().setOffset(20)
                .setData(ByteString.copyFrom(archive, 20, 5)).build()))
                .isInstanceOf(ToolException.class).hasMessageContaining("does not follow the 10 bytes");
    }

    @Test
    void aPathThroughALinkAlreadyInTheWorkspaceIsRefused() throws Exception {
        // Lexically inside, so only the daemon's own check against the real workspace can see it leave.
        var outside = Files.createDirectory(temp.resolve("outside"));
        Files.createSymbolicLink(root.resolve("out"), outside);
        assertThatThrownBy(() -> send(zip("out/x.txt", "escaped"), 1 << 20, 1 << 20))
                .hasMessageContaining("entry 'out/x.txt' refused");
        assertThat(outside.resolve("x.txt")).doesNotExist();
    }

    @Test
    void aHardLinkToAFileOutsideIsRefused() throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            var link = new TarArchiveEntry("passwd", TarConstants.LF_LINK);
            link.setLinkName("../../../../etc/passwd");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }
        assertThatThrownBy(() -> send(bytes.toByteArray(), 1 << 20, 1 << 20))
                .hasMessageContaining("entry 'passwd' is a hard link to '../../../../etc/passwd', outside the workspace");
        assertThat(root.resolve("passwd")).doesNotExist();
    }

    @Test
    void theCapStopsAZipBombWhileUnpacking() throws Exception {
        var archive = zip("bomb", new String(new byte[4 << 20], UTF_8));
        assertThatThrownBy(() -> send(archive, 1 << 20, 1 << 20))
                .hasMessageContaining("entry 'bomb' takes the archive past 1 MiB");
        assertThat(root.resolve("bomb")).doesNotExist();
    }

    private SeedResult send(byte[] archive, int chunk, long maxBytes) throws Exception {
        SeedResult result = null;
        for (int offset = 0; offset < archive.length; offset += chunk) {
            var end = Math.min(archive.length, offset + chunk);
            result = seed.run(SeedAction.newBuilder().setOffset(offset)
                    .setData(ByteString.copyFrom(Arrays.copyOfRange(archive, offset, end)))
                    .setLast(end == archive.length).setMaxBytes(maxBytes).setMaxEntries(100).build());
        }
        return result;
    }

    private static byte[] zip(String... namesAndContents) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var zip = new ZipArchiveOutputStream(bytes)) {
            for (int i = 0; i < namesAndContents.length; i += 2) {
                var entry = new ZipArchiveEntry(namesAndContents[i]);
                entry.setUnixMode(namesAndContents[i].endsWith(".sh") ? 0100755 : 0100644);
                zip.putArchiveEntry(entry);
                zip.write(namesAndContents[i + 1].getBytes(UTF_8));
                zip.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
