package io.nomadshell.daemon.workspace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkspaceTest {

    @TempDir
    Path temp;

    private Path outside;
    private Workspace workspace;

    @BeforeEach
    void setUp() throws IOException {
        Path root = Files.createDirectory(temp.resolve("ws"));
        outside = Files.createDirectory(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "secret");
        workspace = Workspace.open(root);
    }

    @Test
    void resolvesRelativePathsUnderTheRoot() throws Exception {
        assertThat(workspace.resolve("src/a.py")).isEqualTo(workspace.root().resolve("src/a.py"));
        assertThat(workspace.resolve("a/../b")).isEqualTo(workspace.root().resolve("b"));
        assertThat(workspace.resolve("")).isEqualTo(workspace.root());
        assertThat(workspace.resolve(".")).isEqualTo(workspace.root());
    }

    @Test
    void rejectsDotDotThatLeaves() {
        assertThatThrownBy(() -> workspace.resolve("../x"))
                .isInstanceOf(WorkspaceException.class)
                .hasMessage("path '../x' leaves the workspace");
        assertThatThrownBy(() -> workspace.resolve("a/../../outside/secret.txt"))
                .hasMessage("path 'a/../../outside/secret.txt' leaves the workspace");
    }

    @Test
    void rejectsAbsolutePaths() {
        assertThatThrownBy(() -> workspace.resolve("/etc/passwd"))
                .isInstanceOf(WorkspaceException.class)
                .hasMessageContaining("'/etc/passwd' is absolute");
        assertThatThrownBy(() -> workspace.resolve(workspace.root().resolve("a").toString()))
                .hasMessageContaining("is absolute");
    }

    @Test
    void rejectsSymlinkToAFileOutside() throws IOException {
        Files.createSymbolicLink(workspace.root().resolve("leak"), outside.resolve("secret.txt"));

        assertThatThrownBy(() -> workspace.resolve("leak"))
                .isInstanceOf(WorkspaceException.class)
                .hasMessage("path 'leak' leaves the workspace through a symbolic link");
    }

    @Test
    void rejectsPathsThroughASymlinkedDirectoryOutside() throws IOException {
        Files.createDirectory(workspace.root().resolve("src"));
        Files.createSymbolicLink(workspace.root().resolve("src/out"), outside);

        assertThatThrownBy(() -> workspace.resolve("src/out/secret.txt"))
                .hasMessageContaining("through a symbolic link");
        // Not existing yet: judged by its nearest existing ancestor, the link.
        assertThatThrownBy(() -> workspace.resolve("src/out/new/file.txt"))
                .hasMessageContaining("through a symbolic link");
    }

    @Test
    void rejectsADanglingSymlinkPointingOutside() throws IOException {
        Files.createSymbolicLink(workspace.root().resolve("later"), outside.resolve("not-yet.txt"));

        assertThatThrownBy(() -> workspace.resolve("later")).hasMessageContaining("through a symbolic link");
    }

    @Test
    void acceptsSymlinksThatStayInside() throws Exception {
        Path src = Files.createDirectory(workspace.root().resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a");
        Files.createSymbolicLink(workspace.root().resolve("alias"), src);
        Files.createSymbolicLink(workspace.root().resolve("dangling"), Path.of("src/not-yet.txt"));

        assertThat(workspace.resolve("alias/a.txt")).isEqualTo(workspace.root().resolve("alias/a.txt"));
        assertThat(workspace.resolve("alias/new/b.txt")).isEqualTo(workspace.root().resolve("alias/new/b.txt"));
        assertThat(workspace.resolve("dangling")).isEqualTo(workspace.root().resolve("dangling"));
    }

    @Test
    void acceptsANestedPathThatDoesNotExistYet() throws Exception {
        assertThat(workspace.resolve("new/deeper/file.txt"))
                .isEqualTo(workspace.root().resolve("new/deeper/file.txt"));
    }

    @Test
    void relativizesWithSlashes() {
        assertThat(workspace.relativize(workspace.root().resolve("src/a.py"))).isEqualTo("src/a.py");
        assertThat(workspace.relativize(workspace.root())).isEmpty();
    }

    @Test
    void opensOnlyAnExistingDirectory() throws IOException {
        Path file = Files.writeString(temp.resolve("file"), "x");

        assertThatThrownBy(() -> Workspace.open(temp.resolve("missing"))).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> Workspace.open(file)).isInstanceOf(NotDirectoryException.class);
    }
}
