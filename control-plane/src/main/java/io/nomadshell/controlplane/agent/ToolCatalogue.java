package io.nomadshell.controlplane.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.context.ContextCall;
import io.nomadshell.controlplane.context.ContextTools;
import io.nomadshell.controlplane.context.FunctionTools;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ListFilesAction;
import io.nomadshell.proto.v1.ReadFileAction;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.WriteFileAction;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The tools the model is offered, and the translation of what it asks for (a name and a JSON string
 * it wrote) into a typed sandbox call, after checking it.
 */
public final class ToolCatalogue {
    static final Duration DEFAULT_EXEC_TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ChatCompletionTool EXEC = FunctionTools.of("exec", "Run a shell command (/bin/sh -c) in the workspace. Returns the exit code and output;"
                    + " a command still running at timeout_ms is killed and its output so far returned."
                    + " With background=true it returns at once with a handle for the process tool"
                    + " (for dev servers and watchers).",
            Map.of("command", FunctionTools.string("The command line to run"),
                    "cwd", FunctionTools.string("Directory relative to the workspace root (default: the root)"),
                    "timeout_ms", Map.of("type", "integer", "description", "Give up after this long (default 120000)"),
                    "background", Map.of("type", "boolean", "description", "Start it and return a handle at once")),
            List.of("command"));
    private static final ChatCompletionTool READ_FILE = FunctionTools.of("read_file", "Read a text file of the workspace.",
            Map.of("path", FunctionTools.string("Path relative to the workspace root")), List.of("path"));
    private static final ChatCompletionTool WRITE_FILE = FunctionTools.of("write_file",
            "Create or overwrite a file of the workspace (parent directories are created).",
            Map.of("path", FunctionTools.string("Path relative to the workspace root"), "content", FunctionTools.string("The whole new content")),
            List.of("path", "content"));
    private static final ChatCompletionTool LIST_FILES = FunctionTools.of("list_files", "List the files of the workspace, recursively (.git,"
                    + " node_modules, target, __pycache__ and .venv are listed but not entered).",
            Map.of("path", FunctionTools.string("Directory relative to the workspace root (default: the root)"),
                    "max_depth", Map.of("type", "integer", "description", "Levels to descend (default: all)")),
            List.of());
    private static final ChatCompletionTool FINISH = FunctionTools.of("finish",
            "Call when the task is done. The workspace is then delivered to the user as a zip.",
            Map.of("summary", FunctionTools.string("What was built, in a few sentences")), List.of("summary"));
    /**
     * The most needed first: a small context window offers the tools of this list, in order, that
     * still fit (see JobContext), and running commands and finishing are always offered.
     */
    private static final List<ChatCompletionTool> DEFINITIONS = Stream.concat(
            Stream.of(EXEC, FINISH, WRITE_FILE, READ_FILE, EditFileToolSpec.definition(), LIST_FILES),
            Stream.concat(ContextTools.definitions().stream(),
                    Stream.of(ProcessToolSpec.definition(), RunCodeToolSpec.definition(), ComputerToolSpec.definition())))
            .toList();

    private ToolCatalogue() {}

    /** Every tool, the most needed first. */
    public static List<ChatCompletionTool> definitions() {
        return DEFINITIONS;
    }

    /** What the model asked for, once checked. */
    public sealed interface Action {
        /** A call to run in the sandbox (its call id is set by the caller). */
        record Sandbox(ToolCall.Builder call, Duration timeout) implements Action {}

        record Finish(String summary) implements Action {}

        /** A call the context manager answers (recall, notes). */
        record Context(ContextCall call) implements Action {}

        /** The call cannot be run; the message goes back to the model so it can correct itself. */
        record Invalid(String message) implements Action {}
    }

    public static Action parse(String name, String arguments, AgentLimits limits) {
        JsonNode args;
        try {
            args = JSON.readTree(arguments.isBlank() ? "{}" : arguments);
        } catch (Exception e) {
            return new Action.Invalid("the arguments of " + name + " are not valid JSON: " + e.getMessage());
        }
        if (args == null || !args.isObject()) {
            return new Action.Invalid("the arguments of " + name + " must be a JSON object");
        }
        try {
            return switch (name) {
                case "exec" -> exec(args, limits);
                case "read_file" -> new Action.Sandbox(ToolCall.newBuilder()
                        .setReadFile(ReadFileAction.newBuilder().setPath(required(args, "path"))), DEFAULT_EXEC_TIMEOUT);
                case "write_file" -> new Action.Sandbox(ToolCall.newBuilder()
                        .setWriteFile(WriteFileAction.newBuilder()
                                .setPath(required(args, "path"))
                                .setContent(ByteString.copyFromUtf8(required(args, "content")))), DEFAULT_EXEC_TIMEOUT);
                case "list_files" -> new Action.Sandbox(ToolCall.newBuilder()
                        .setListFiles(ListFilesAction.newBuilder().setPath(optional(args, "path", ""))
                                .setMaxDepth((int) new ToolArguments(args).number("max_depth", 0, 0, 1000))),
                        DEFAULT_EXEC_TIMEOUT);
                case EditFileToolSpec.NAME -> EditFileToolSpec.parse(new ToolArguments(args));
                case ProcessToolSpec.NAME -> ProcessToolSpec.parse(new ToolArguments(args));
                case RunCodeToolSpec.NAME -> RunCodeToolSpec.parse(new ToolArguments(args), limits);
                case ComputerToolSpec.NAME -> ComputerToolSpec.parse(new ToolArguments(args));
                case "finish" -> new Action.Finish(optional(args, "summary", ""));
                case "recall", "notes" -> new Action.Context(ContextTools.parse(name, args));
                default -> new Action.Invalid("there is no tool named '" + name + "'; the tools are "
                        + "exec, read_file, write_file, edit_file, list_files, process, run_code, computer, recall, notes and finish");
            };
        } catch (IllegalArgumentException e) {
            return new Action.Invalid(name + ": " + e.getMessage());
        }
    }

    private static Action exec(JsonNode args, AgentLimits limits) {
        var timeout = DEFAULT_EXEC_TIMEOUT;
        var given = args.get("timeout_ms");
        if (given != null && !given.isNull()) {
            if (!given.canConvertToLong() || given.asLong() <= 0) {
                throw new IllegalArgumentException("timeout_ms must be a positive whole number of milliseconds");
            }
            timeout = Duration.ofMillis(given.asLong());
        }
        if (timeout.compareTo(limits.maxToolTimeout()) > 0) {
            timeout = limits.maxToolTimeout();
        }
        return new Action.Sandbox(ToolCall.newBuilder().setExec(ExecAction.newBuilder()
                .setCommand(required(args, "command"))
                .setCwd(optional(args, "cwd", ""))
                .setTimeoutMs((int) timeout.toMillis())
                .setBackground(new ToolArguments(args).bool("background"))), timeout);
    }

    private static String required(JsonNode args, String field) {
        var value = args.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' is required and must be a string");
        }
        return value.asText();
    }

    private static String optional(JsonNode args, String field, String fallback) {
        var value = args.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' must be a string");
        }
        return value.asText();
    }
}
