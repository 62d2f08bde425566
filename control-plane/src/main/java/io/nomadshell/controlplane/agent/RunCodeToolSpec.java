package io.nomadshell.controlplane.agent;

import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.context.FunctionTools;
import io.nomadshell.proto.v1.RunCodeAction;
import io.nomadshell.proto.v1.ToolCall;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The {@code run_code} tool as offered to the model, and its arguments turned into a {@link RunCodeAction}. */
final class RunCodeToolSpec {

    static final String NAME = "run_code";
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
    /** Starting Jupyter and a kernel, and interrupting a runaway cell, on top of the code's own time. */
    private static final Duration OVERHEAD = Duration.ofMinutes(2);

    private RunCodeToolSpec() {}

    static ChatCompletionTool definition() {
        return FunctionTools.of(NAME, """
                Run code in a persistent Jupyter kernel (one per language, for the whole job): variables, \
                imports and definitions stay between calls. Returns printed output, the value of the last \
                expression, errors with their traceback, and plots (matplotlib figures come back as \
                images). Code running past timeout_ms is interrupted; the kernel and its state survive.""",
                Map.of("code", FunctionTools.string("The code to run"),
                        "language", Map.of("type", "string", "enum", List.of("python", "typescript", "javascript"),
                                "description", "Default python"),
                        "timeout_ms", Map.of("type", "integer", "description", "Interrupt after this long (default 120000)")),
                List.of("code"));
    }

    static ToolCatalogue.Action parse(ToolArguments args, AgentLimits limits) {
        Duration timeout = Duration.ofMillis(args.number("timeout_ms", DEFAULT_TIMEOUT.toMillis(), 1, Integer.MAX_VALUE));
        if (timeout.compareTo(limits.maxToolTimeout()) > 0) {
            timeout = limits.maxToolTimeout();
        }
        RunCodeAction.Builder action = RunCodeAction.newBuilder()
                .setCode(args.string("code"))
                .setLanguage(args.has("language") ? args.choice("language", Set.of("python", "typescript", "javascript")) : "python")
                .setTimeoutMs((int) timeout.toMillis());
        return new ToolCatalogue.Action.Sandbox(ToolCall.newBuilder().setRunCode(action), timeout.plus(OVERHEAD));
    }
}
