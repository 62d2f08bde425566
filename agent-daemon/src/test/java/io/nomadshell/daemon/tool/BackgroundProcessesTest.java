package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ProcessAction;
import io.nomadshell.proto.v1.ProcessResult;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** exec background=true and the process tool, with real processes. */
class BackgroundProcessesTest {

    @TempDir
    Path temp;

    private final ProcessRegistry registry = new ProcessRegistry();
    private BackgroundProcesses background;

    @BeforeEach
    void setUp() throws Exception {
        background = new BackgroundProcesses(new ShellCommands(Workspace.open(temp), Map::of), registry);
    }

    @AfterEach
    void tearDown() {
        registry.killAll();
    }

    private ProcessResult start(String command) throws Exception {
        return background.start(ExecAction.newBuilder().setCommand(command).setBackground(true).build());
    }

    private ProcessResult op(ProcessAction.Op op, String handle, int waitMs) throws Exception {
        return background.run(ProcessAction.newBuilder().setOp(op).setHandle(handle).setWaitMs(waitMs).build());
    }

    @Test
    void aServerAnswersASecondCommandAndIsKilled() throws Exception {
        int port = TestTools.freePort();
        ProcessResult started = start("exec python3 -u -m http.server " + port + " --bind 127.0.0.1");
        assertThat(started.getHandle()).isEqualTo("p1");
        assertThat(started.getRunning()).isTrue();

        assertThat(op(ProcessAction.Op.OUTPUT, "p1", 20_000).getOutput()).contains("Serving HTTP");
        ProcessResult client = start("python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:"
                + port + "/').status)\"");
        ProcessResult answered = op(ProcessAction.Op.OUTPUT, client.getHandle(), 20_000);
        assertThat(answered.getOutput()).contains("200");

        ProcessResult killed = op(ProcessAction.Op.KILL, "p1", 0);
        assertThat(killed.getRunning()).isFalse();
        assertThat(killed.getOutput()).contains("GET / HTTP/1.1");
        assertThat(op(ProcessAction.Op.LIST, "", 0).getProcessesList())
                .extracting(ProcessResult::getHandle).containsExactly("p1", "p2");
    }

    @Test
    void readsOutputOnceAndTakesInput() throws Exception {
        start("while read line; do echo \"got $line\"; done; echo bye");

        ProcessResult first = background.run(ProcessAction.newBuilder().setOp(ProcessAction.Op.INPUT)
                .setHandle("p1").setInput("one\n").setWaitMs(10_000).build());
        assertThat(first.getOutput()).isEqualTo("got one\n");
        ProcessResult last = background.run(ProcessAction.newBuilder().setOp(ProcessAction.Op.INPUT)
                .setHandle("p1").setInput("two\n").setCloseStdin(true).setWaitMs(10_000).build());
        assertThat(last.getOutput()).startsWith("got two\n");
        StringBuilder all = new StringBuilder(last.getOutput());
        ProcessResult ended = last;
        for (int reads = 0; ended.getRunning() && reads < 100; reads++) {
            ended = op(ProcessAction.Op.OUTPUT, "p1", 1_000);
            all.append(ended.getOutput());
        }
        assertThat(all.toString()).isEqualTo("got two\nbye\n");
        assertThat(ended.getRunning()).isFalse();
        assertThat(ended.getExitCode()).isZero();
    }

    @Test
    void everyBackgroundProcessDiesWithTheJob() throws Exception {
        String marker = "marker-" + UUID.randomUUID();
        start("sleep 600 && echo " + marker);
        start("sh -c 'sleep 601; echo " + marker + "'");
        assertThat(Processes.withMarker(marker)).isNotEmpty();

        registry.killAll();

        assertThat(Processes.awaitGone(marker, java.time.Duration.ofSeconds(10))).isEmpty();
    }

    @Test
    void refusesAnUnknownHandle() throws Exception {
        start("true");
        assertThatThrownBy(() -> op(ProcessAction.Op.OUTPUT, "p9", 0))
                .isInstanceOf(ToolException.class)
                .hasMessage("no background process 'p9'; the handles are p1");
    }
}
