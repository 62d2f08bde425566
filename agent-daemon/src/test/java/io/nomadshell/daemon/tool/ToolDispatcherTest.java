package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ReadFileAction;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.WriteFileAction;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolDispatcherTest {

    @TempDir
    Path temp;

    @TempDir
    Path scratch;

    private final Recorder recorder = new Recorder();
    private ToolDispatcher dispatcher;

    @BeforeEach
    void setUp() throws Exception {
        dispatcher = new ToolDispatcher(Workspace.open(temp), TestTools.options(scratch));
    }

    @AfterEach
    void tearDown() {
        dispatcher.stopAll();
    }

    @Test
    void answersAnEmptyActionWithUnknownTool() {
        ToolResult result = dispatcher.dispatch(ToolCall.newBuilder().setCallId("c1").build(), recorder);

        assertThat(result.getCallId()).isEqualTo("c1");
        assertThat(result.getError()).isEqualTo("unknown tool");
        assertThat(result.getResultCase()).isEqualTo(ToolResult.ResultCase.RESULT_NOT_SET);
    }

    @Test
    void turnsFailuresIntoErrorsForTheModel() {
        ToolResult missing = dispatcher.dispatch(ToolCall.newBuilder().setCallId("c2")
                .setReadFile(ReadFileAction.newBuilder().setPath("src/a.py")).build(), recorder);
        ToolResult escape = dispatcher.dispatch(ToolCall.newBuilder().setCallId("c3")
                .setWriteFile(WriteFileAction.newBuilder().setPath("../x").setContent(ByteString.copyFromUtf8("x")))
                .build(), recorder);

        assertThat(missing.getError()).isEqualTo("no such file: src/a.py");
        assertThat(escape.getError()).isEqualTo("path '../x' leaves the workspace");
        assertThat(temp.resolveSibling("x")).doesNotExist();
    }

    @Test
    void routesEachActionToItsToolAndStampsTheCallId() {
        ToolResult written = dispatcher.dispatch(ToolCall.newBuilder().setCallId("w")
                .setWriteFile(WriteFileAction.newBuilder().setPath("a.txt").setContent(ByteString.copyFromUtf8("hi")))
                .build(), recorder);
        ToolResult executed = dispatcher.dispatch(ToolCall.newBuilder().setCallId("x")
                .setExec(ExecAction.newBuilder().setCommand("cat a.txt")).build(), recorder);

        assertThat(written.getError()).isEmpty();
        assertThat(written.getWriteFile().getBytesWritten()).isEqualTo(2);
        assertThat(executed.getCallId()).isEqualTo("x");
        assertThat(executed.getExec().getOutput()).isEqualTo("hi");
        assertThat(recorder.events).isNotEmpty().allSatisfy(e -> assertThat(e.getCallId()).isEqualTo("x"));
    }

    @Test
    void advertisesExactlyTheActionsOfTheContract() {
        assertThat(ToolDispatcher.TOOLS).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(ToolCall.ActionCase.values())
                        .filter(action -> action != ToolCall.ActionCase.ACTION_NOT_SET)
                        .map(action -> action.name().toLowerCase())
                        .toList());
    }
}
