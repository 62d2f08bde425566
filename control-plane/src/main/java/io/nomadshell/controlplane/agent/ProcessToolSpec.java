package io.nomadshell.controlplane.agent;

import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.context.FunctionTools;
import io.nomadshell.proto.v1.ProcessAction;
import io.nomadshell.proto.v1.ToolCall;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code process} tool (background processes started with exec) as offered to the model. */
final class ProcessToolSpec {

    static final String NAME = "process";
    private static final Duration GRACE = Duration.ofSeconds(15);
    private static final Map<String, ProcessAction.Op> OPS = Map.of(
            "output", ProcessAction.Op.OUTPUT, "input", ProcessAction.Op.INPUT,
            "kill", ProcessAction.Op.KILL, "list", ProcessAction.Op.LIST);

    private ProcessToolSpec() {}

    static ChatCompletionTool definition() {
        return FunctionTools.of(NAME, """
                Work with a background process started by exec with background=true. 'output' returns \
                what it printed since the last read (waiting up to wait_ms for something new) and \
                whether it still runs; 'input' writes text to its stdin; 'kill' stops it and its \
                children; 'list' shows every background process. All of them are killed when the job ends.""",
                Map.of("action", Map.of("type", "string", "enum", List.of("output", "input", "kill", "list")),
                        "handle", FunctionTools.string("The handle exec returned, such as p1"),
                        "input", FunctionTools.string("input: the text to write (add \\n to end a line)"),
                        "close_stdin", Map.of("type", "boolean", "description", "input: close stdin afterwards"),
                        "wait_ms", Map.of("type", "integer", "description", "output/input: wait up to this long for output (at most 60000)")),
                List.of("action"));
    }

    static ToolCatalogue.Action parse(ToolArguments args) {
        ProcessAction.Op op = OPS.get(args.choice("action", Set.copyOf(OPS.keySet())));
        ProcessAction.Builder action = ProcessAction.newBuilder().setOp(op);
        if (op != ProcessAction.Op.LIST) {
            action.setHandle(args.string("handle"));
        }
        if (op == ProcessAction.Op.INPUT) {
            action.setInput(args.string("input", "")).setCloseStdin(args.bool("close_stdin"));
        }
        long waitMs = args.number("wait_ms", 0, 0, 60_000);
        action.setWaitMs((int) waitMs);
        return new ToolCatalogue.Action.Sandbox(ToolCall.newBuilder().setProcess(action), Duration.ofMillis(waitMs).plus(GRACE));
    }
}
