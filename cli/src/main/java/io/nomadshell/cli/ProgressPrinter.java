package io.nomadshell.cli;

import io.nomadshell.proto.v1.JobEvent;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;

/** Shows a job's events as they arrive: one line per step, the command output indented. */
final class ProgressPrinter {
    private static final int MAX_LINE = 160;
    private final PrintStream out;
    private final Instant started = Instant.now();

    ProgressPrinter(PrintStream out) {
        this.out = out;
    }

    void print(JobEvent event) {
        switch (event.getKindCase()) {
            case STATUS_CHANGED -> {
                var change = event.getStatusChanged();
                line("● " + change.getStatus() + (change.getError().isEmpty() ? "" : ": " + change.getError()));
            }
            case ASSISTANT_MESSAGE -> line("  " + event.getAssistantMessage().getText());
            case TOOL_STARTED -> line("  ▶ " + event.getToolStarted().getTool() + " " + event.getToolStarted().getArguments());
            case TOOL_OUTPUT -> event.getToolOutput().getText().lines().forEach(text -> line("    │ " + text));
            case TOOL_FINISHED -> {
                var finished = event.getToolFinished();
                line("  " + (finished.getOk() ? "✓" : "✗") + " " + finished.getDurationMs() + " ms");
            }
            case ARTIFACT_READY -> line("● zip ready: " + event.getArtifactReady().getBytes() + " bytes");
            case EGRESS -> {
                var egress = event.getEgress();
                line("  ⇄ egress " + egress.getHost() + ":" + egress.getPort()
                        + (egress.getAllowed() ? " (" + egress.getAddress() + ")" : " refused: " + egress.getReason()));
            }
            case KIND_NOT_SET -> {
                // A newer server's event this client does not know.
            }
        }
    }

    private void line(String text) {
        var elapsed = Duration.between(started, Instant.now());
        var shown = text.length() > MAX_LINE ? text.substring(0, MAX_LINE) + "…" : text;
        out.printf("[%3d.%01ds] %s%n", elapsed.toSeconds(), elapsed.toMillisPart() / 100, shown.replace('\n', ' '));
    }
}
