package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.egress.EgressProxy;
import io.nomadshell.daemon.tool.code.JupyterServer;
import io.nomadshell.daemon.tool.code.RunCodeTool;
import io.nomadshell.daemon.tool.desktop.ComputerTool;
import io.nomadshell.daemon.tool.desktop.Desktop;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.CodeOutput;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.DaemonSpan;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
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
    public static final List<String> TOOLS = List.of("exec", "read_file", "write_file", "list_files", "archive",
            "edit_file", "process", "computer", "run_code", "ensure_service", "seed", "checkpoint", "restore");

    private static final Logger log = LoggerFactory.getLogger(ToolDispatcher.class);

    private final ProcessRegistry processes = new ProcessRegistry();
    private final ExecTool exec;
    private final BackgroundProcesses background;
    private final ReadFileTool readFile;
    private final WriteFileTool writeFile;
    private final EditFileTool editFile;
    private final ListFilesTool listFiles;
    private final Lazy<ArchiveTool> archive;
    private final Desktop desktop;
    private final Lazy<ComputerTool> computer;
    private final JupyterServer jupyter;
    private final Lazy<RunCodeTool> runCode;
    private final ServiceStarter services;
    private final SeedTool seed;
    private final CheckpointTool checkpoints;
    private final IoErrors ioErrors;

    /** A dispatcher whose tools work in {@code workspace}, with services as {@code options} say. */
    public ToolDispatcher(Workspace workspace, ToolOptions options) {
        requireNonNull(workspace, "workspace");
        requireNonNull(options, "options");
        desktop = new Desktop(options);
        ShellCommands shell = new ShellCommands(workspace, () -> {
            // The desktop's DISPLAY once it runs, and always the way out: the sandbox's egress proxy.
            var env = new HashMap<>(EgressProxy.environment(SandboxPorts.EGRESS_PROXY));
            env.putAll(desktop.environment());
            return env;
        });
        exec = new ExecTool(shell, processes);
        background = new BackgroundProcesses(shell, processes);
        readFile = new ReadFileTool(workspace);
        writeFile = new WriteFileTool(workspace);
        editFile = new EditFileTool(workspace, writeFile);
        listFiles = new ListFilesTool(workspace);
        // The tools below are made on their first call, so an idle daemon does not load their classes.
        archive = Lazy.of(() -> new ArchiveTool(workspace));
        computer = Lazy.of(() -> new ComputerTool(desktop, options));
        jupyter = new JupyterServer(options, workspace.root());
        runCode = Lazy.of(() -> new RunCodeTool(jupyter));
        services = new ServiceStarter(desktop, jupyter);
        seed = new SeedTool(workspace);
        checkpoints = new CheckpointTool(workspace, options.checkpoints());
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
        long startedUnixNanos = unixNanos();
        try {
            // A switch expression, so a new action in the proto does not compile until handled.
            result = switch (call.getActionCase()) {
                case EXEC -> call.getExec().getBackground()
                        ? result.setProcess(background.start(call.getExec()))
                        : result.setExec(exec.run(call.getExec(), callEvents));
                case READ_FILE -> result.setReadFile(readFile.run(call.getReadFile()));
                case WRITE_FILE -> result.setWriteFile(writeFile.run(call.getWriteFile()));
                case LIST_FILES -> result.setListFiles(listFiles.run(call.getListFiles()));
                case ARCHIVE -> result.setArchive(archive.get().run(callEvents));
                case EDIT_FILE -> result.setEditFile(editFile.run(call.getEditFile()));
                case PROCESS -> result.setProcess(background.run(call.getProcess()));
                case COMPUTER -> result.setComputer(computer.get().run(call.getComputer()));
                case RUN_CODE -> result.setRunCode(runCode.get().run(call.getRunCode(),
                        (kind, text) -> liveOutput(callEvents, kind, text)));
                case ENSURE_SERVICE -> result.setEnsureService(services.ensure(call.getEnsureService()));
                case SEED -> result.setSeed(seed.run(call.getSeed()));
                case CHECKPOINT -> result.setCheckpoint(checkpoints.checkpoint(call.getCheckpoint(), callEvents));
                case RESTORE -> result.setRestore(checkpoints.restore(call.getRestore()));
                case ACTION_NOT_SET -> result.setError("unknown tool");
            };
        } catch (ToolException | WorkspaceException e) {
            result.setError(e.getMessage());
        } catch (IOException e) {
            result.setError(ioErrors.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.setError("the call was interrupted");
        } catch (RuntimeException e) {
            log.warn("call {} failed unexpectedly", call.getCallId(), e);
            result.setError("the daemon failed to run this tool: " + e);
        }
        log.info("call {} {} done in {} ms{}{}", call.getCallId(), nameOf(call),
                (System.nanoTime() - started) / 1_000_000,
                result.getError().isEmpty() ? "" : ": " + result.getError(),
                call.getTraceparent().isEmpty() ? "" : " (trace " + call.getTraceparent() + ")");
        // The daemon's side of the call, for the control plane's trace: no SDK and no network in here.
        return result.setDaemonSpan(DaemonSpan.newBuilder().setStartUnixNanos(startedUnixNanos)
                .setEndUnixNanos(unixNanos()).putAttributes("tool", nameOf(call))).build();
    }

    private static long unixNanos() {
        var now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The token Jupyter Server must demand, as the control plane's Welcome gave it. */
    public void useJupyterToken(String token) {
        jupyter.useToken(token);
    }

    /** Kills every process the tools started, stops the services, and refuses new processes. */
    public void stopAll() {
        processes.killAll();
        runCode.ifMade(RunCodeTool::close);
        jupyter.close();
        desktop.close();
    }

    private static void liveOutput(CallEvents events, CodeOutput.Kind kind, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        events.output(kind == CodeOutput.Kind.STDERR ? OutputChunk.Stream.STDERR : OutputChunk.Stream.STDOUT,
                bytes, bytes.length);
    }

    private static String nameOf(ToolCall call) {
        return call.getActionCase() == ToolCall.ActionCase.ACTION_NOT_SET
                ? "(no action)"
                : call.getActionCase().name().toLowerCase();
    }
}
