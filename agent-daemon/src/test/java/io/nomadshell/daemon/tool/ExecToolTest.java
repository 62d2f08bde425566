package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ExecResult;
import io.nomadshell.proto.v1.OutputChunk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecToolTest {

    @TempDir
    Path temp;

    private final ProcessRegistry processes = new ProcessRegistry();
    private final Recorder recorder = new Recorder();
    private Workspace workspace;
    private ExecTool exec;

    @BeforeEach
    void setUp() throws Exception {
        workspace = Workspace.open(temp);
        exec = new ExecTool(new ShellCommands(workspace, Map::of), processes);
    }

    @AfterEach
    void tearDown() {
        processes.killAll();
    }

    private ExecResult run(String command) throws Exception {
        return exec.run(ExecAction.newBuilder().setCommand(command).build(), recorder.forCall("c1"));
    }

    @Test
    void streamsBothStreamsAndReturnsTheExitCode() throws Exception {
        ExecResult result = run("echo out; echo err >&2; exit 3");

        assertThat(result.getExitCode()).isEqualTo(3);
        assertThat(result.getTimedOut()).isFalse();
        assertThat(result.getTruncated()).isFalse();
        assertThat(recorder.output(OutputChunk.Stream.STDOUT)).isEqualTo("out\n");
        assertThat(recorder.output(OutputChunk.Stream.STDERR)).isEqualTo("err\n");
        assertThat(result.getOutput()).contains("out\n").contains("err\n").hasSize(8);
        assertThat(recorder.events).allSatisfy(e -> assertThat(e.getCallId()).isEqualTo("c1"));
    }

    @Test
    void sendsEachChunkAsItIsRead() throws Exception {
        CompletableFuture<ExecResult> done = CompletableFuture.supplyAsync(() -> {
            try {
                return run("echo first; sleep 2; echo second");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        long deadline = System.nanoTime() + Duration.ofMillis(1500).toNanos();
        while (recorder.output(OutputChunk.Stream.STDOUT).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(recorder.output(OutputChunk.Stream.STDOUT)).isEqualTo("first\n");
        assertThat(done).isNotDone();
        assertThat(done.get().getOutput()).isEqualTo("first\nsecond\n");
    }

    @Test
    void timeoutKillsTheChildAndItsGrandchild() throws Exception {
        String marker = Processes.uniqueSleepSeconds();

        ExecResult result = exec.run(ExecAction.newBuilder()
                .setCommand("echo started; sh -c 'sleep " + marker + " & sleep " + marker + "'")
                .setTimeoutMs(500)
                .build(), recorder.forCall("c1"));

        assertThat(result.getTimedOut()).isTrue();
        assertThat(result.getExitCode()).isEqualTo(124);
        assertThat(result.getOutput()).startsWith("started\n");
        assertThat(result.getDurationMs()).isBetween(500L, 8000L);
        assertThat(Processes.awaitGone(marker, Duration.ofSeconds(3))).isEmpty();
    }

    @Test
    void keepsHeadAndTailOfLongOutput() throws Exception {
        ExecResult result = run("printf HEAD; head -c 100000 /dev/zero | tr '\\0' x; printf TAIL");

        long omitted = 100_008 - OutputCapture.HEAD - OutputCapture.TAIL;
        String marker = "\n[... " + omitted + " bytes omitted ...]\n";
        assertThat(result.getTruncated()).isTrue();
        assertThat(result.getOutput())
                .startsWith("HEADxxx")
                .endsWith("xxxTAIL")
                .contains(marker)
                .hasSize(OutputCapture.HEAD + OutputCapture.TAIL + marker.length());
        assertThat(recorder.output(OutputChunk.Stream.STDOUT)).hasSize(100_008);
    }

    @Test
    void runsInACwdInsideTheWorkspace() throws Exception {
        Files.createDirectory(temp.resolve("sub"));

        ExecResult result = exec.run(ExecAction.newBuilder().setCommand("pwd").setCwd("sub").build(),
                recorder.forCall("c1"));

        assertThat(result.getOutput()).isEqualTo(workspace.root().resolve("sub") + "\n");
    }

    @Test
    void refusesACwdOutsideOrMissing() {
        assertThatThrownBy(() -> exec.run(ExecAction.newBuilder().setCommand("pwd").setCwd("..").build(),
                recorder.forCall("c1")))
                .isInstanceOf(WorkspaceException.class)
                .hasMessage("path '..' leaves the workspace");
        assertThatThrownBy(() -> exec.run(ExecAction.newBuilder().setCommand("pwd").setCwd("nope").build(),
                recorder.forCall("c1")))
                .hasMessage("no such directory: nope");
    }

    @Test
    void readsStdinFromDevNull() throws Exception {
        ExecResult result = exec.run(ExecAction.newBuilder().setCommand("cat; echo eof").setTimeoutMs(5000).build(),
                recorder.forCall("c1"));

        assertThat(result.getTimedOut()).isFalse();
        assertThat(result.getOutput()).isEqualTo("eof\n");
    }

    @Test
    void refusesAnEmptyCommand() {
        assertThatThrownBy(() -> run("  ")).isInstanceOf(ToolException.class).hasMessage("empty command");
    }

    @Test
    void killAllStopsRunningCommandsAndRefusesNewOnes() throws Exception {
        String marker = Processes.uniqueSleepSeconds();
        CompletableFuture<ExecResult> running = CompletableFuture.supplyAsync(() -> {
            try {
                return run("sleep " + marker);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(Processes.awaitPresent(marker, Duration.ofSeconds(5))).isTrue();

        processes.killAll();

        assertThat(running.get().getExitCode()).isNotZero();
        assertThat(Processes.awaitGone(marker, Duration.ofSeconds(3))).isEmpty();
        assertThatThrownBy(() -> run("true")).hasMessageContaining("shutting down");
    }
}
