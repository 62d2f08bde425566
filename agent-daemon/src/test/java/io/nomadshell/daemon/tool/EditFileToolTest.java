package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.EditFileAction;
import io.nomadshell.proto.v1.EditFileResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** edit_file: exact replacements, insertions, refusals that leave the file alone, and the diff. */
class EditFileToolTest {

    @TempDir
    Path temp;

    private Path root;
    private EditFileTool edit;

    @BeforeEach
    void setUp() throws Exception {
        Workspace workspace = Workspace.open(temp);
        root = workspace.root();
        edit = new EditFileTool(workspace, new WriteFileTool(workspace));
    }

    private EditFileResult replace(String path, String old, String replacement, boolean all) throws Exception {
        return edit.run(EditFileAction.newBuilder().setPath(path).setReplace(EditFileAction.Replace.newBuilder()
                .setOldText(old).setNewText(replacement).setReplaceAll(all)).build());
    }

    private EditFileResult insert(String path, int afterLine, String text) throws Exception {
        return edit.run(EditFileAction.newBuilder().setPath(path).setInsert(EditFileAction.Insert.newBuilder()
                .setAfterLine(afterLine).setText(text)).build());
    }

    @Test
    void replacesAUniqueMatchAndShowsTheDiff() throws Exception {
        Files.writeString(root.resolve("app.py"), "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\n");

        EditFileResult result = replace("app.py", "e = 5\n", "e = 50\nee = 55\n", false);

        assertThat(Files.readString(root.resolve("app.py")))
                .isEqualTo("a = 1\nb = 2\nc = 3\nd = 4\ne = 50\nee = 55\nf = 6\ng = 7\nh = 8\n");
        assertThat(result.getReplacements()).isEqualTo(1);
        assertThat(result.getDiff()).isEqualTo("""
                --- a/app.py
                +++ b/app.py
                @@ -2,7 +2,8 @@
                 b = 2
                 c = 3
                 d = 4
                -e = 5
                +e = 50
                +ee = 55
                 f = 6
                 g = 7
                 h = 8
                """);
    }

    @Test
    void refusesANonUniqueMatchWithTheCountAndLeavesTheFileAlone() throws Exception {
        Files.writeString(root.resolve("a.txt"), "foo\nbar\nfoo\nfoo\n");

        assertThatThrownBy(() -> replace("a.txt", "foo", "baz", false))
                .isInstanceOf(ToolException.class)
                .hasMessageStartingWith("old_text matches 3 times in a.txt;");
        assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("foo\nbar\nfoo\nfoo\n");
    }

    @Test
    void refusesAMissingMatch() throws Exception {
        Files.writeString(root.resolve("a.txt"), "foo\n");

        assertThatThrownBy(() -> replace("a.txt", "  foo", "x", false))
                .isInstanceOf(ToolException.class)
                .hasMessageStartingWith("old_text matches 0 times in a.txt;");
    }

    @Test
    void replacesEveryMatchWhenAsked() throws Exception {
        Files.writeString(root.resolve("a.txt"), "foo\nbar\nfoo\n");

        EditFileResult result = replace("a.txt", "foo", "baz", true);

        assertThat(result.getReplacements()).isEqualTo(2);
        assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("baz\nbar\nbaz\n");
        assertThat(result.getDiff()).isEqualTo("""
                --- a/a.txt
                +++ b/a.txt
                @@ -1,3 +1,3 @@
                -foo
                +baz
                 bar
                -foo
                +baz
                """);
    }

    @Test
    void insertsAfterALineAtTheTopAndAtTheEnd() throws Exception {
        Files.writeString(root.resolve("a.txt"), "one\ntwo");

        insert("a.txt", 1, "one and a half");
        insert("a.txt", 0, "zero\n");
        EditFileResult last = insert("a.txt", 4, "three");

        assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("zero\none\none and a half\ntwo\nthree\n");
        assertThat(last.getDiff()).contains("-two\n\\ No newline at end of file\n+two\n+three\n");
    }

    @Test
    void refusesAnInsertPastTheEndWithTheLineCount() throws Exception {
        Files.writeString(root.resolve("a.txt"), "one\ntwo\n");

        assertThatThrownBy(() -> insert("a.txt", 5, "x"))
                .isInstanceOf(ToolException.class)
                .hasMessage("insert_line 5 is past the end of a.txt, which has 2 lines (0 inserts at the top, 2 at the end)");
    }

    @Test
    void keepsTheFileModeAndRefusesBinaryFiles() throws Exception {
        Path script = Files.writeString(root.resolve("run.sh"), "echo hi\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.write(root.resolve("blob.bin"), new byte[] {1, 0, 2});

        replace("run.sh", "hi", "hello", false);

        assertThat(Files.getPosixFilePermissions(script)).isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatThrownBy(() -> replace("blob.bin", "x", "y", false))
                .isInstanceOf(ToolException.class)
                .hasMessage("blob.bin is a binary file; edit_file changes text files only");
        assertThatThrownBy(() -> replace("missing.txt", "x", "y", false))
                .isInstanceOf(ToolException.class)
                .hasMessage("no such file: missing.txt");
    }
}
