package io.nomadshell.controlplane.agent;

import io.nomadshell.proto.v1.ToolResult;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;

/** Turns a sandbox's tool result into the text the model reads; the context manager bounds what it shows. */
final class ToolResultText {
    private ToolResultText() {}

    static String of(ToolResult result) {
        if (!result.getError().isEmpty()) {
            return "error: " + result.getError();
        }
        var text = switch (result.getResultCase()) {
            case EXEC -> {
                var exec = result.getExec();
                var head = exec.getTimedOut()
                        ? "timed out after " + exec.getDurationMs() + " ms (the command was killed)"
                        : "exit code " + exec.getExitCode();
                yield head + "\n" + exec.getOutput();
            }
            case READ_FILE -> {
                var read = result.getReadFile();
                if (read.getBinary()) {
                    yield "a binary file of " + read.getSize() + " bytes; not shown (inspect it with exec: file, xxd | head, ...)";
                }
                var content = read.getContent().toString(StandardCharsets.UTF_8);
                yield read.getTruncated()
                        ? content + "\n[... file is " + read.getSize() + " bytes; only the first "
                                + read.getContent().size() + " are shown ...]"
                        : content;
            }
            case WRITE_FILE -> "wrote " + result.getWriteFile().getBytesWritten() + " bytes";
            case LIST_FILES -> {
                var list = result.getListFiles();
                var lines = list.getEntriesList().stream()
                        .map(e -> e.getDirectory()
                                ? e.getPath() + "/" + (e.getNotDescended() ? " (not listed)" : "")
                                : e.getPath() + " (" + e.getSize() + " bytes)")
                        .collect(Collectors.joining("\n"));
                yield (lines.isEmpty() ? "(no files)" : lines) + (list.getTruncated() ? "\n[... more files not listed ...]" : "");
            }
            case ARCHIVE -> "archived " + result.getArchive().getFiles() + " files";
            case EDIT_FILE -> {
                var edit = result.getEditFile();
                yield edit.getDiff().isEmpty() ? "no change (the new text equals the old)" : edit.getDiff();
            }
            case PROCESS -> ToolsetText.process(result.getProcess());
            case COMPUTER -> ToolsetText.computer(result.getComputer());
            case RUN_CODE -> ToolsetText.runCode(result.getRunCode());
            case ENSURE_SERVICE -> result.getEnsureService().getService() + " answers on port " + result.getEnsureService().getPort();
            case SEED -> "seeded the workspace with " + result.getSeed().getFiles() + " files";
            case CHECKPOINT -> "kept the workspace as commit " + result.getCheckpoint().getCommit();
            case RESTORE -> "restored " + result.getRestore().getFiles() + " files";
            case RESULT_NOT_SET -> "(no result)";
        };
        return text;
    }
}
