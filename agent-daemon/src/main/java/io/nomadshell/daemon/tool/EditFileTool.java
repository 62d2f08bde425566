package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.EditFileAction;
import io.nomadshell.proto.v1.EditFileResult;
import io.nomadshell.proto.v1.WriteFileAction;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Changes part of a text file: replaces an exact match (which must be unique unless
 * {@code replace_all}) or inserts after a line, writes the result atomically and answers with a
 * unified diff. A refused edit leaves the file untouched and says why: how many times the text
 * matched, or how many lines the file has.
 */
final class EditFileTool {

    static final long MAX_BYTES = 4L * 1024 * 1024;

    private final Workspace workspace;
    private final WriteFileTool writer;

    EditFileTool(Workspace workspace, WriteFileTool writer) {
        this.workspace = requireNonNull(workspace, "workspace");
        this.writer = requireNonNull(writer, "writer");
    }

    EditFileResult run(EditFileAction action) throws ToolException, WorkspaceException, IOException {
        String given = action.getPath();
        Path file = workspace.resolve(given);
        if (!Files.isRegularFile(file)) {
            throw new ToolException((Files.isDirectory(file) ? "is a directory: " : "no such file: ") + given);
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new ToolException(given + " is " + Files.size(file) + " bytes; edit_file handles files up to "
                    + MAX_BYTES + " bytes (use exec with sed or a script)");
        }
        String before = text(Files.readAllBytes(file), given);
        Edited edited = switch (action.getEditCase()) {
            case REPLACE -> replace(before, action.getReplace(), given);
            case INSERT -> insert(before, action.getInsert(), given);
            case EDIT_NOT_SET -> throw new ToolException("edit_file needs old_text (to replace) or insert_line (to insert)");
        };
        if (!edited.text().equals(before)) {
            writer.run(WriteFileAction.newBuilder()
                    .setPath(given)
                    .setContent(ByteString.copyFromUtf8(edited.text()))
                    .build());
        }
        String diff = UnifiedDiff.of(workspace.relativize(file), before, edited.text());
        return EditFileResult.newBuilder().setDiff(diff).setReplacements(edited.replacements()).build();
    }

    private record Edited(String text, int replacements) {}

    private static Edited replace(String before, EditFileAction.Replace replace, String given) throws ToolException {
        String old = replace.getOldText();
        if (old.isEmpty()) {
            throw new ToolException("old_text is empty; give the exact text to replace");
        }
        int matches = count(before, old);
        if (matches == 0) {
            throw new ToolException("old_text matches 0 times in " + given
                    + "; it must match the file exactly, whitespace and indentation included (read the file again)");
        }
        if (matches > 1 && !replace.getReplaceAll()) {
            throw new ToolException("old_text matches " + matches + " times in " + given
                    + "; include more of the surrounding lines so that it matches exactly once, or set replace_all");
        }
        return new Edited(before.replace(old, replace.getNewText()), matches);
    }

    private static Edited insert(String before, EditFileAction.Insert insert, String given) throws ToolException {
        long after = Integer.toUnsignedLong(insert.getAfterLine());
        int lines = lineCount(before);
        if (after > lines) {
            throw new ToolException("insert_line " + after + " is past the end of " + given + ", which has "
                    + lines + " lines (0 inserts at the top, " + lines + " at the end)");
        }
        String text = insert.getText();
        if (!text.isEmpty() && !text.endsWith("\n")) {
            text += "\n";
        }
        int offset = 0;
        for (int line = 0; line < after; line++) {
            int newline = before.indexOf('\n', offset);
            offset = newline < 0 ? before.length() : newline + 1;
        }
        // The last line may lack its newline; the inserted text must not run into it.
        String head = before.substring(0, offset);
        if (!head.isEmpty() && !head.endsWith("\n")) {
            head += "\n";
        }
        return new Edited(head + text + before.substring(offset), 0);
    }

    private static int count(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length())) {
            count++;
        }
        return count;
    }

    private static int lineCount(String text) {
        if (text.isEmpty()) {
            return 0;
        }
        int count = (int) text.chars().filter(c -> c == '\n').count();
        return text.endsWith("\n") ? count : count + 1;
    }

    private static String text(byte[] bytes, String given) throws ToolException {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            if (text.indexOf('\0') >= 0) {
                throw new ToolException(given + " is a binary file; edit_file changes text files only");
            }
            return text;
        } catch (CharacterCodingException e) {
            throw new ToolException(given + " is not UTF-8 text; edit_file changes text files only");
        }
    }
}
