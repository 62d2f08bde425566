package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link ToolCall} with the executor for its action and always answers with a
 * {@link ToolResult}: a failure becomes {@code ToolResult.error} in words for the model, never an
 * exception. Safe to use from many threads at once; each call blocks its caller until done.
 */
public final class ToolDispatcher {

    /** The names of the tools this daemon runs, as in {@code ToolCall.action}. */
    public static final List<String> TOOLS =
            List.of("exec", "read_file", "write_file", "list_files", "archive");

    private static final Logger log = LoggerFactory.getLogger(ToolDispatcher.class);

    private final ProcessRegistry processes = new ProcessRegistry();
    private final ExecTool exec;
    private final ReadFileTool readFile;
    private final WriteFileTool writeFile;
    private final ListFilesTool listFiles;
    private final ArchiveTool archive;
    private final IoErrors ioErrors;

    /** A dispatcher whose tools work in {@code workspace}. */
    public ToolDispatcher(Workspace workspace) {
        requireNonNull(workspace, "workspace");
        exec = new ExecTool(workspace, processes);
        readFile = new ReadFileTool(workspace);
        writeFile = new WriteFileTool(workspace);
        listFiles = new ListFilesTool(workspace);
        archive = new ArchiveTool(workspace);
        ioErrors = new IoErrors(workspace);
    }

    /**
     * Runs {@code call}, sending its events to {@code events} as they happen, and returns its
     * result. Never throws for a failing call.
     */
    public ToolResult dispatch(ToolCall call, Consumer<ToolEvent> events) {
        requireNonNull(call, "call");
        requireNonNull(events, "events");
        CallEvents callEvents = new CallEvents(call.getCallId(), events);
        ToolResult.Builder result = ToolResult.newBuilder().setCallId(call.getCallId());
        long started = System.nanoTime();
        try {
            // A switch expression, so a new action in the proto does not compile until handled.
            result = switch (call.getActionCase()) {
                case EXEC -> result.setExec(exec.run(call.getExec(), callEvents));
                case READ_FILE -> result.setReadFile(readFile.run(call.getReadFile()));
                case WRITE_FILE -> result.setWriteFile(writeFile.run(call.getWriteFile()));
                case LIST_FILES -> result.setListFiles(listFiles.run(call.getListFiles()));
                case ARCHIVE -> result.setArchive(archive.run(callEvents));
                case ACTION_NOT_SET -> result.setError("unknown tool");
            };
        } catch (ToolException | WorkspaceException e) {
            result.setError(e.getMessage());
        } catch (IOException e) {
            result.setError(ioErrors.describe(e));
        } catch (RuntimeException e) {
            log.warn("call {} failed unexpectedly", call.getCallId(), e);
            result.setError("the daemon failed to run this tool: " + e);
        }
        log.info("call {} {} done in {} ms{}", call.getCallId(), nameOf(call),
                (System.nanoTime() - started) / 1_000_000,
                result.getError().isEmpty() ? "" : ": " + result.getError());
        return result.build();
    }

    /** Kills every process the tools started and refuses to start new ones. */
    public void stopAll() {
        processes.killAll();
    }

    private static String nameOf(ToolCall call) {
        return call.getActionCase() == ToolCall.ActionCase.ACTION_NOT_SET
                ? "(no action)"
                : call.getActionCase().name().toLowerCase();
    }
}
