package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.FileEntry;
import io.nomadshell.proto.v1.ListFilesAction;
import io.nomadshell.proto.v1.ListFilesResult;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListFilesToolTest {

    @TempDir
    Path temp;

    private Path root;
    private ListFilesTool list;

    @BeforeEach
    void setUp() throws Exception {
        Workspace workspace = Workspace.open(Files.createDirectory(temp.resolve("ws")));
        root = workspace.root();
        list = new ListFilesTool(workspace);
    }

    private ListFilesResult list(String path) throws Exception {
        return list.run(ListFilesAction.newBuilder().setPath(path).build());
    }

    private void file(String path, String content) throws Exception {
        Files.createDirectories(root.resolve(path).getParent());
        Files.writeString(root.resolve(path), content);
    }

    @Test
    void listsRecursivelySortedWithoutDescendingIntoToolDirectories() throws Exception {
        file("README.md", "hello");
        file("src/a.py", "a");
        file("src/b/c.txt", "cc");
        file(".git/HEAD", "ref");
        file("node_modules/pkg/index.js", "js");
        file("target/classes/A.class", "x");
        Files.createSymbolicLink(root.resolve("outside"), temp);

        ListFilesResult result = list("");

        assertThat(result.getTruncated()).isFalse();
        assertThat(result.getEntriesList())
                .extracting(FileEntry::getPath, FileEntry::getDirectory, FileEntry::getSize)
                .containsExactly(
                        tuple(".git", true, 0L),
                        tuple("README.md", false, 5L),
                        tuple("node_modules", true, 0L),
                        tuple("outside", false, 0L),
                        tuple("src", true, 0L),
                        tuple("src/a.py", false, 1L),
                        tuple("src/b", true, 0L),
                        tuple("src/b/c.txt", false, 2L),
                        tuple("target", true, 0L));
    }

    @Test
    void listsASubdirectoryWithPathsFromTheRoot() throws Exception {
        file("src/a.py", "a");
        file("src/b/c.txt", "cc");
        file("docs/x.md", "x");

        assertThat(list("src").getEntriesList()).extracting(FileEntry::getPath)
                .containsExactly("src/a.py", "src/b", "src/b/c.txt");
    }

    @Test
    void capsTheNumberOfEntries() throws Exception {
        Files.createDirectory(root.resolve("many"));
        for (int i = 0; i < ListFilesTool.MAX_ENTRIES + 5; i++) {
            Files.createFile(root.resolve("many/f" + i));
        }

        ListFilesResult result = list("");

        assertThat(result.getTruncated()).isTrue();
        assertThat(result.getEntriesCount()).isEqualTo(ListFilesTool.MAX_ENTRIES);
        assertThat(result.getEntriesList().getFirst().getPath()).isEqualTo("many");
    }

    @Test
    void refusesMissingPathsFilesAndEscapes() throws Exception {
        file("a.txt", "a");

        assertThatThrownBy(() -> list("nope")).isInstanceOf(ToolException.class).hasMessage("no such directory: nope");
        assertThatThrownBy(() -> list("a.txt")).isInstanceOf(ToolException.class).hasMessage("not a directory: a.txt");
        assertThatThrownBy(() -> list("..")).isInstanceOf(WorkspaceException.class);
    }

    @Test
    void stopsAtTheGivenDepthAndMarksWhatItDidNotDescend() throws Exception {
        file("a/b/c/deep.txt", "x");
        file("a/top.txt", "x");
        file("node_modules/pkg/index.js", "x");

        ListFilesResult result = list.run(ListFilesAction.newBuilder().setMaxDepth(2).build());

        assertThat(result.getEntriesList()).extracting(FileEntry::getPath, FileEntry::getNotDescended).containsExactly(
                tuple("a", false),
                tuple("a/b", true),
                tuple("a/top.txt", false),
                tuple("node_modules", true));
    }
}
