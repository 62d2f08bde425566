package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.proto.v1.ArtifactReady;
import io.nomadshell.proto.v1.AssistantDelta;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.Checkpointed;
import io.nomadshell.proto.v1.HandedOver;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.RolledBack;
import io.nomadshell.proto.v1.StatusChanged;
import io.nomadshell.proto.v1.ToolStarted;
import io.nomadshell.proto.v1.UserMessage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressPrinterTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final ProgressPrinter printer = new ProgressPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8));

    @Test
    void aHandoverSaysWhyAndWhetherTheSandboxRunsOn() {
        printer.print(JobEvent.newBuilder().setHandedOver(HandedOver.newBuilder()
                .setReason("the control plane driving the job stopped").setSandboxKept(true)).build());

        assertThat(lines()).singleElement().asString()
                .endsWith("● handed over: the control plane driving the job stopped (its sandbox runs on)");
    }

    @Test
    void deltasGrowOneLineAndTheWholeAnswerIsNotRepeated() {
        printer.print(delta(1, "I'll write "));
        assertThat(lines()).singleElement().asString().endsWith("  I'll write ");
        printer.print(delta(1, "hello.py"));
        printer.print(delta(1, " now."));
        assertThat(lines()).singleElement().asString().endsWith("  I'll write hello.py now.");

        printer.print(message(1, "I'll write hello.py now."));
        printer.print(tool("write_file"));

        assertThat(lines()).hasSize(2);
        assertThat(lines().get(0)).matches("\\[ *\\d+\\.\\ds\\]   I'll write hello\\.py now\\.");
        assertThat(lines().get(1)).endsWith("  ▶ write_file {}");
        assertThat(output()).containsOnlyOnce("hello.py now.");
    }

    @Test
    void aWholeAnswerWhoseDeltasWereNotSeenIsShown() {
        // A replay from a later sequence starts after the step's deltas: its whole text is all there is.
        printer.print(message(3, "Done, the tests pass."));
        printer.print(delta(4, "Next"));
        printer.print(message(4, "Next I'll finish."));

        // Pieces that are not the whole answer (seen from the middle, or a retried call's) are followed by the whole.
        assertThat(lines()).hasSize(3);
        assertThat(lines().get(0)).endsWith("  Done, the tests pass.");
        assertThat(lines().get(1)).endsWith("  Next");
        assertThat(lines().get(2)).endsWith("  Next I'll finish.");
    }

    @Test
    void anotherEventEndsTheGrowingLineAndANewStepStartsItsOwn() {
        printer.print(delta(1, "Step one"));
        printer.print(status("running"));
        printer.print(delta(2, "Step two,\nsecond line"));
        printer.print(message(2, "Step two,\nsecond line"));
        printer.print(message(1, "Step one"));

        assertThat(lines()).hasSize(4);
        assertThat(lines().get(0)).endsWith("  Step one");
        assertThat(lines().get(1)).endsWith("● running");
        assertThat(lines().get(2)).endsWith("  Step two,");
        // The answer's own line breaks keep the indent, so the paragraph stays in its column.
        assertThat(lines().get(3)).isEqualTo(" ".repeat(lines().get(2).indexOf("Step two")) + "second line");
    }

    @Test
    void aPartialZipSaysHowToDownloadIt() {
        printer.print(JobEvent.newBuilder().setJobId("j1").setArtifactReady(ArtifactReady.newBuilder()
                .setBytes(321).setPartial(true).setDownloadUrl("/download/j1")).build());
        printer.print(JobEvent.newBuilder().setJobId("j2").setArtifactReady(ArtifactReady.newBuilder()
                .setBytes(654).setDownloadUrl("/download/j2")).build());

        assertThat(lines().get(0)).endsWith(
                "● partial zip kept: 321 bytes, what the job left in its workspace (nomad-shell download j1)");
        assertThat(lines().get(1)).endsWith("● zip ready: 654 bytes");
    }

    @Test
    void theUsersMessagesCheckpointsRollbacksAndPausesHaveTheirOwnLines() {
        printer.print(JobEvent.newBuilder().setUserMessage(UserMessage.newBuilder().setText("use sqlite")).build());
        printer.print(JobEvent.newBuilder().setCheckpointed(Checkpointed.newBuilder().setStep(0).setFiles(3)).build());
        printer.print(JobEvent.newBuilder().setCheckpointed(Checkpointed.newBuilder().setStep(12).setFiles(40)).build());
        printer.print(JobEvent.newBuilder().setRolledBack(RolledBack.newBuilder().setStep(12)).build());
        printer.print(status("paused"));

        assertThat(lines()).hasSize(5);
        assertThat(lines().get(0)).endsWith("  you: use sqlite");
        assertThat(lines().get(1)).endsWith("● checkpoint before the first step (3 files)");
        assertThat(lines().get(2)).endsWith("● checkpoint after step 12 (40 files)");
        assertThat(lines().get(3)).endsWith("● rolled back to after step 12: the files and the conversation as they were then");
        assertThat(lines().get(4)).endsWith("● paused");
    }

    private static JobEvent delta(int step, String text) {
        return JobEvent.newBuilder().setAssistantDelta(AssistantDelta.newBuilder().setStep(step).setText(text)).build();
    }

    private static JobEvent message(int step, String text) {
        return JobEvent.newBuilder().setAssistantMessage(AssistantMessage.newBuilder().setStep(step).setText(text)).build();
    }

    private static JobEvent tool(String name) {
        return JobEvent.newBuilder().setToolStarted(ToolStarted.newBuilder().setTool(name).setArguments("{}")).build();
    }

    private static JobEvent status(String status) {
        return JobEvent.newBuilder().setStatusChanged(StatusChanged.newBuilder().setStatus(status)).build();
    }

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private List<String> lines() {
        return output().lines().toList();
    }
}
