package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.ReadFileAction;
import io.nomadshell.proto.v1.ReadFileResult;
import io.nomadshell.proto.v1.WriteFileAction;
import io.nomadshell.proto.v1.WriteFileResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** read_file and write_file. */
class FileToolsTest {

    @TempDir
    Path temp;

    private Path root;
    private ReadFileTool read;
    private WriteFileTool write;

    @BeforeEach
    void setUp() throws Exception {
        Workspace workspace = Workspace.open(Files.createDirectory(temp.resolve("ws")));
        root = workspace.root();
        read = new ReadFileTool(workspace);
        write = new WriteFileTool(workspace);
    }

    private ReadFileResult read(String path, int maxBytes) throws Exception {
        return read.run(ReadFileAction.newBuilder().setPath(path).setMaxBytes(maxBytes).build());
    }

    private WriteFileResult write(String path, String content) throws Exception {
        return write.run(WriteFileAction.newBuilder().setPath(path).setContent(ByteString.copyFromUtf8(content)).build());
    }

    @Test
    void readsAWholeFile() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello world");

        ReadFileResult result = read("hello.txt", 0);

        assertThat(result.getContent().toStringUtf8()).isEqualTo("hello world");
        assertThat(result.getTruncated()).isFalse();
        assertThat(result.getSize()).isEqualTo(11);
    }

    @Test
    void readsUpToMaxBytes() throws Exception {
        Files.writeString(root.resolve("hello.txt"), "hello world");

        ReadFileResult result = read("hello.txt", 5);

        assertThat(result.getContent().toStringUtf8()).isEqualTo("hello");
        assertThat(result.getTruncated()).isTrue();
        assertThat(result.getSize()).isEqualTo(11);
    }

    @Test
    void capsTheDefaultAndTheMaximum() throws Exception {
        byte[] big = new byte[ReadFileTool.MAX_BYTES + 1000];
        Arrays.fill(big, (byte) 'b');
        Files.write(root.resolve("big.bin"), big);

        assertThat(read("big.bin", 0).getContent().size()).isEqualTo(ReadFileTool.DEFAULT_MAX_BYTES);
        ReadFileResult capped = read("big.bin", Integer.MAX_VALUE);
        assertThat(capped.getContent().size()).isEqualTo(ReadFileTool.MAX_BYTES);
        assertThat(capped.getTruncated()).isTrue();
    }

    @Test
    void readRefusesMissingFilesDirectoriesAndEscapes() throws Exception {
        Files.createDirectory(root.resolve("src"));

        assertThatThrownBy(() -> read("src/a.py", 0)).isInstanceOf(ToolException.class).hasMessage("no such file: src/a.py");
        assertThatThrownBy(() -> read("src", 0)).isInstanceOf(ToolException.class).hasMessage("is a directory: src");
        assertThatThrownBy(() -> read("../x", 0)).isInstanceOf(WorkspaceException.class)
                .hasMessage("path '../x' leaves the workspace");
    }

    @Test
    void writesANewFileCreatingItsParents() throws Exception {
        WriteFileResult result = write("src/app/main.py", "print('hi')\n");

        assertThat(result.getBytesWritten()).isEqualTo(12);
        assertThat(root.resolve("src/app/main.py")).hasContent("print('hi')");
        assertThat(Files.getPosixFilePermissions(root.resolve("src/app/main.py")))
                .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        try (var left = Files.list(root.resolve("src/app"))) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("main.py");
        }
    }

    @Test
    void overwritesKeepingTheFilesMode() throws Exception {
        Path script = Files.writeString(root.resolve("run.sh"), "old");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

        write("run.sh", "#!/bin/sh\necho new\n");

        assertThat(script).hasContent("#!/bin/sh\necho new");
        assertThat(Files.getPosixFilePermissions(script)).isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void writesThroughASymlinkThatStaysInside() throws Exception {
        Files.writeString(root.resolve("real.txt"), "old");
        Files.createSymbolicLink(root.resolve("link.txt"), Path.of("real.txt"));

        write("link.txt", "new");

        assertThat(root.resolve("real.txt")).hasContent("new");
        assertThat(Files.isSymbolicLink(root.resolve("link.txt"))).isTrue();
    }

    @Test
    void writeRefusesDirectoriesFilesInTheWayAndEscapes() throws Exception {
        Files.createDirectory(root.resolve("src"));
        Files.writeString(root.resolve("a.txt"), "a");
        Files.createSymbolicLink(root.resolve("out"), temp);

        assertThatThrownBy(() -> write("src", "x")).isInstanceOf(ToolException.class).hasMessage("is a directory: src");
        assertThatThrownBy(() -> write("a.txt/b.txt", "x")).isInstanceOf(ToolException.class)
                .hasMessage("not a directory: a.txt");
        assertThatThrownBy(() -> write("../x.txt", "x")).isInstanceOf(WorkspaceException.class);
        assertThatThrownBy(() -> write("out/x.txt", "x")).isInstanceOf(WorkspaceException.class);
        assertThat(temp.resolve("x.txt")).doesNotExist();
    }

    @Test
    void describesABinaryFileInsteadOfReturningIt() throws Exception {
        byte[] blob = new byte[100_000];
        blob[10] = 0;
        blob[11] = 7;
        Files.write(root.resolve("image.bin"), blob);

        ReadFileResult result = read("image.bin", 0);

        assertThat(result.getBinary()).isTrue();
        assertThat(result.getContent().isEmpty()).isTrue();
        assertThat(result.getSize()).isEqualTo(100_000);
    }
}
