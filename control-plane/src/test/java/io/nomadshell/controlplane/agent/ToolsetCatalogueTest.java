package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.proto.v1.ComputerAction;
import io.nomadshell.proto.v1.ProcessAction;
import io.nomadshell.proto.v1.ToolCall;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The new tools' arguments become the right sandbox calls, and bad ones go back to the model in words. */
class ToolsetCatalogueTest {

    private static ToolCall call(String name, String arguments) {
        var action = ToolCatalogue.parse(name, arguments, AgentLimits.DEFAULT);
        assertThat(action).as("%s", action).isInstanceOf(ToolCatalogue.Action.Sandbox.class);
        return ((ToolCatalogue.Action.Sandbox) action).call().build();
    }

    private static String invalid(String name, String arguments) {
        var action = ToolCatalogue.parse(name, arguments, AgentLimits.DEFAULT);
        assertThat(action).as("%s", action).isInstanceOf(ToolCatalogue.Action.Invalid.class);
        return ((ToolCatalogue.Action.Invalid) action).message();
    }

    @Test
    void offersEveryToolTheMostNeededFirst() {
        assertThat(ToolCatalogue.definitions()).extracting(t -> t.asFunction().function().name()).containsExactly(
                "exec", "finish", "write_file", "read_file", "edit_file", "list_files", "recall", "notes", "process",
                "run_code", "computer");
    }

    @Test
    void computerActionsCarryTheirCoordinates() {
        var click = call("computer", "{\"action\":\"left_click\",\"coordinate\":[240,200]}").getComputer();
        assertThat(click.getKind()).isEqualTo(ComputerAction.Kind.LEFT_CLICK);
        assertThat(click.getX()).isEqualTo(240);
        assertThat(click.getY()).isEqualTo(200);

        var drag = call("computer", "{\"action\":\"left_click_drag\",\"start_coordinate\":[1,2],\"coordinate\":[3,4]}").getComputer();
        assertThat(drag.getFromX()).isEqualTo(1);
        assertThat(drag.getY()).isEqualTo(4);

        assertThat(call("computer", "{\"action\":\"scroll\",\"coordinate\":[5,5],\"scroll_direction\":\"up\"}")
                .getComputer().getScrollAmount()).isEqualTo(3);
        assertThat(call("computer", "{\"action\":\"key\",\"text\":\"ctrl+s\"}").getComputer().getText()).isEqualTo("ctrl+s");
    }

    @Test
    void badComputerArgumentsAreExplained() {
        assertThat(invalid("computer", "{\"action\":\"left_click\"}"))
                .isEqualTo("computer: 'coordinate' ([x, y]) is required for left_click");
        assertThat(invalid("computer", "{\"action\":\"left_click\",\"coordinate\":[1]}"))
                .isEqualTo("computer: 'coordinate' must be [x, y] with two non-negative whole numbers");
        assertThat(invalid("computer", "{\"action\":\"fly\"}")).startsWith("computer: 'action' must be one of ");
        assertThat(invalid("computer", "{\"action\":\"type\"}")).isEqualTo("computer: 'text' is required and must be a string");
    }

    @Test
    void runCodeDefaultsToPythonAndCapsTheTimeout() {
        var action = ToolCatalogue.parse("run_code", "{\"code\":\"1+1\",\"timeout_ms\":99999999}", AgentLimits.DEFAULT);
        var run = ((ToolCatalogue.Action.Sandbox) action).call().getRunCode();
        assertThat(run.getLanguage()).isEqualTo("python");
        assertThat(run.getTimeoutMs()).isEqualTo((int) AgentLimits.DEFAULT.maxToolTimeout().toMillis());
        assertThat(((ToolCatalogue.Action.Sandbox) action).timeout()).isGreaterThan(Duration.ofMillis(run.getTimeoutMs()));
        assertThat(invalid("run_code", "{\"code\":\"x\",\"language\":\"cobol\"}"))
                .isEqualTo("run_code: 'language' must be one of javascript, python, typescript, not 'cobol'");
    }

    @Test
    void execInTheBackgroundAndTheProcessTool() {
        assertThat(call("exec", "{\"command\":\"npm run dev\",\"background\":true}").getExec().getBackground()).isTrue();
        var output = call("process", "{\"action\":\"output\",\"handle\":\"p1\",\"wait_ms\":2000}").getProcess();
        assertThat(output.getOp()).isEqualTo(ProcessAction.Op.OUTPUT);
        assertThat(output.getWaitMs()).isEqualTo(2000);
        assertThat(call("process", "{\"action\":\"list\"}").getProcess().getOp()).isEqualTo(ProcessAction.Op.LIST);
        assertThat(invalid("process", "{\"action\":\"kill\"}")).isEqualTo("process: 'handle' is required and must be a string");
        assertThat(invalid("exec", "{\"command\":\"x\",\"background\":\"yes\"}")).isEqualTo("exec: 'background' must be true or false");
    }

    @Test
    void editFileReplacesOrInserts() {
        var replace = call("edit_file", "{\"path\":\"a.py\",\"old_text\":\"x\",\"new_text\":\"y\"}").getEditFile();
        assertThat(replace.getReplace().getOldText()).isEqualTo("x");
        var insert = call("edit_file", "{\"path\":\"a.py\",\"insert_line\":3,\"new_text\":\"y\"}").getEditFile();
        assertThat(insert.getInsert().getAfterLine()).isEqualTo(3);
        assertThat(invalid("edit_file", "{\"path\":\"a.py\",\"old_text\":\"x\",\"insert_line\":1,\"new_text\":\"y\"}"))
                .isEqualTo("edit_file: give old_text (to replace) or insert_line (to insert), not both");
        assertThat(call("list_files", "{\"max_depth\":2}").getListFiles().getMaxDepth()).isEqualTo(2);
    }
}
