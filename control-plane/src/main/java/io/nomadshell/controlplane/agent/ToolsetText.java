package io.nomadshell.controlplane.agent;

import io.nomadshell.proto.v1.CodeOutput;
import io.nomadshell.proto.v1.ComputerResult;
import io.nomadshell.proto.v1.ProcessResult;
import io.nomadshell.proto.v1.RunCodeResult;

/** The text the model reads for the results of the process, computer and run_code tools. */
final class ToolsetText {

    private ToolsetText() {}

    static String process(ProcessResult process) {
        if (!process.getProcessesList().isEmpty() || process.getHandle().isEmpty()) {
            var lines = new StringBuilder();
            for (var p : process.getProcessesList()) {
                lines.append(p.getHandle()).append(' ').append(state(p)).append(": ").append(p.getCommand()).append('\n');
            }
            return lines.isEmpty() ? "no background processes" : lines.toString().strip();
        }
        var text = new StringBuilder("process ").append(process.getHandle()).append(' ').append(state(process));
        if (process.getDroppedBytes() > 0) {
            text.append("\n[... ").append(process.getDroppedBytes()).append(" bytes of older output dropped ...]");
        }
        if (!process.getOutput().isEmpty()) {
            text.append('\n').append(process.getOutput());
        } else if (process.getRunning()) {
            text.append(" (no new output)");
        }
        return text.toString();
    }

    static String computer(ComputerResult computer) {
        var text = computer.getText();
        if (!computer.getPng().isEmpty()) {
            text += "\n(the screenshot is attached below; coordinates are in its pixels, "
                    + computer.getImageWidth() + "x" + computer.getImageHeight() + ")";
        }
        return text;
    }

    static String runCode(RunCodeResult run) {
        var text = new StringBuilder();
        if (run.getKernelRestarted()) {
            text.append("[the kernel had died and was restarted: variables, imports and definitions from earlier"
                    + " calls are gone]\n");
        }
        int images = 0;
        for (var output : run.getOutputsList()) {
            switch (output.getKind()) {
                case STDOUT, STDERR -> text.append(output.getText());
                case RESULT -> text.append("Out[").append(run.getExecutionCount()).append("]: ").append(output.getText()).append('\n');
                case DISPLAY -> {
                    if (!output.getPng().isEmpty()) {
                        images++;
                        text.append("[image ").append(images).append(": PNG, attached below]\n");
                    } else {
                        text.append(output.getText()).append('\n');
                    }
                }
                case KIND_UNSPECIFIED, UNRECOGNIZED -> { }
            }
            if (output.getKind() == CodeOutput.Kind.RESULT && !output.getPng().isEmpty()) {
                images++;
                text.append("[image ").append(images).append(": PNG, attached below]\n");
            }
        }
        if (!run.getErrorName().isEmpty()) {
            text.append(run.getTraceback().isEmpty() ? run.getErrorName() + ": " + run.getErrorValue() : run.getTraceback())
                    .append('\n');
        }
        if (run.getTimedOut()) {
            text.append("[timed out: the code was interrupted; the kernel and its state survive]\n");
        }
        return text.isEmpty() ? "(no output)" : text.toString().stripTrailing();
    }

    private static String state(ProcessResult process) {
        return process.getRunning() ? "running" : "exited with code " + process.getExitCode();
    }
}
