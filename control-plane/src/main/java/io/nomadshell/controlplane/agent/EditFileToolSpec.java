package io.nomadshell.controlplane.agent;

import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.context.FunctionTools;
import io.nomadshell.proto.v1.EditFileAction;
import io.nomadshell.proto.v1.ToolCall;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The {@code edit_file} tool as offered to the model, and its arguments turned into an {@link EditFileAction}. */
final class EditFileToolSpec {

    static final String NAME = "edit_file";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private EditFileToolSpec() {}

    static ChatCompletionTool definition() {
        return FunctionTools.of(NAME, """
                Change part of a text file and get a unified diff back. To replace: old_text must match \
                the file exactly (whitespace included) and only once, unless replace_all; otherwise the \
                edit is refused with the number of matches. To insert: give insert_line (new_text goes \
                after that line; 0 is the top) and no old_text.""",
                Map.of("path", FunctionTools.string("Path relative to the workspace root"),
                        "old_text", FunctionTools.string("The exact text to replace"),
                        "new_text", FunctionTools.string("The replacement, or the text to insert"),
                        "replace_all", Map.of("type", "boolean", "description", "Replace every match"),
                        "insert_line", Map.of("type", "integer", "description", "Insert new_text after this line (1-based; 0 = top)")),
                List.of("path", "new_text"));
    }

    static ToolCatalogue.Action parse(ToolArguments args) {
        EditFileAction.Builder action = EditFileAction.newBuilder().setPath(args.string("path"));
        String text = args.string("new_text");
        if (args.has("insert_line")) {
            if (args.has("old_text")) {
                throw new IllegalArgumentException("give old_text (to replace) or insert_line (to insert), not both");
            }
            action.setInsert(EditFileAction.Insert.newBuilder()
                    .setAfterLine((int) args.number("insert_line", 0, 0, Integer.MAX_VALUE))
                    .setText(text));
        } else {
            action.setReplace(EditFileAction.Replace.newBuilder()
                    .setOldText(args.string("old_text"))
                    .setNewText(text)
                    .setReplaceAll(args.bool("replace_all")));
        }
        return new ToolCatalogue.Action.Sandbox(ToolCall.newBuilder().setEditFile(action), TIMEOUT);
    }
}
