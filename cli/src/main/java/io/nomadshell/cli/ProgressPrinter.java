package io.nomadshell.cli;

import io.nomadshell.proto.v1.JobEvent;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Shows a job's events as they arrive: one line per step, the command output indented. The
 * assistant's answer grows on its line as its pieces stream in (deltas); its whole text, which
 * follows, is then not shown again, unless no piece of that step was seen (a replay from later on).
 */
final class ProgressPrinter {
    private static final int MAX_LINE = 160;
    private static final String ASSISTANT_INDENT = "  ";
    private final PrintStream out;
    private final Instant started = Instant.now();
    /** What was shown growing of each step's answer. */
    private final Map<Integer, StringBuilder> streamed = new HashMap<>();
    /** The step whose answer is growing on the current line, or -1 when the line is done. */
    private int growingStep = -1;

    ProgressPrinter(PrintStream out) {
        this.out = out;
    }

    void print(JobEvent event) {
        if (event.getKindCase() == JobEvent.KindCase.ASSISTANT_DELTA) {
            grow(event.getAssistantDelta().getStep(), event.getAssistantDelta().getText());
            return;
        }
        endGrowingLine();
        switch (event.getKindCase()) {
            case STATUS_CHANGED -> {
                var change = event.getStatusChanged();
                line("● " + change.getStatus() + (change.getError().isEmpty() ? "" : ": " + change.getError()));
            }
            case ASSISTANT_MESSAGE -> {
                // Shown whole unless it grew here as it is (a retried call's pieces, or calls the
                // answer wrote as text, make the pieces differ from the whole).
                var shown = streamed.remove(event.getAssistantMessage().getStep());
                var text = event.getAssistantMessage().getText();
                if ((shown == null || !shown.toString().equals(text)) && !text.isBlank()) {
                    line(ASSISTANT_INDENT + text);
                }
            }
            case TOOL_STARTED -> line("  ▶ " + event.getToolStarted().getTool() + " " + event.getToolStarted().getArguments());
            case TOOL_OUTPUT -> event.getToolOutput().getText().lines().forEach(text -> line("    │ " + text));
            case TOOL_FINISHED -> {
                var finished = event.getToolFinished();
                line("  " + (finished.getOk() ? "✓" : "✗") + " " + finished.getDurationMs() + " ms");
            }
            case ARTIFACT_READY -> {
                var ready = event.getArtifactReady();
                line(ready.getPartial()
                        ? "● partial zip kept: " + ready.getBytes() + " bytes, what the job left in its workspace"
                                + " (nomad-shell download " + event.getJobId() + ")"
                        : "● zip ready: " + ready.getBytes() + " bytes");
            }
            case EGRESS -> {
                var egress = event.getEgress();
                line("  ⇄ egress " + egress.getHost() + ":" + egress.getPort()
                        + (egress.getAllowed() ? " (" + egress.getAddress() + ")" : " refused: " + egress.getReason()));
            }
            case HANDED_OVER -> {
                var handedOver = event.getHandedOver();
                line("● handed over: " + handedOver.getReason() + (handedOver.getSandboxKept() ? " (its sandbox runs on)" : ""));
            }
            case USER_MESSAGE -> line("  you: " + event.getUserMessage().getText());
            case CHECKPOINTED -> {
                var checkpoint = event.getCheckpointed();
                line("● checkpoint " + point(checkpoint.getStep()) + " (" + checkpoint.getFiles() + " files)");
            }
            case ROLLED_BACK -> line("● rolled back to " + point(event.getRolledBack().getStep())
                    + ": the files and the conversation as they were then");
            case WEBHOOK_DELIVERY -> {
                var delivery = event.getWebhookDelivery();
                var answer = delivery.getStatusCode() > 0 ? "HTTP " + delivery.getStatusCode() : delivery.getError();
                line("  ↗ webhook " + delivery.getStatus() + " attempt " + delivery.getAttempt() + ": "
                        + (delivery.getDelivered() ? "delivered" : answer + (delivery.getGaveUp() ? ", gave up" : ", will retry")));
            }
            case ASSISTANT_DELTA, KIND_NOT_SET -> {
                // Deltas are handled above; KIND_NOT_SET is a newer server's event this client does not know.
            }
        }
    }

    /** Where a checkpoint stands: step 0 is the workspace before the first step. */
    static String point(int step) {
        return step == 0 ? "before the first step" : "after step " + step;
    }

    /** Adds a piece of the step's answer to its line, which starts like any other; later lines keep its indent. */
    private void grow(int step, String text) {
        if (growingStep != step) {
            endGrowingLine();
            out.print(prefix() + ASSISTANT_INDENT);
            growingStep = step;
        }
        streamed.computeIfAbsent(step, s -> new StringBuilder()).append(text);
        out.print(text.replace("\n", "\n" + " ".repeat(prefix().length()) + ASSISTANT_INDENT));
        out.flush();
    }

    private void endGrowingLine() {
        if (growingStep != -1) {
            out.println();
            growingStep = -1;
        }
    }

    private void line(String text) {
        var shown = text.length() > MAX_LINE ? text.substring(0, MAX_LINE) + "…" : text;
        out.println(prefix() + shown.replace('\n', ' '));
    }

    private String prefix() {
        var elapsed = Duration.between(started, Instant.now());
        return String.format("[%3d.%01ds] ", elapsed.toSeconds(), elapsed.toMillisPart() / 100);
    }
}
