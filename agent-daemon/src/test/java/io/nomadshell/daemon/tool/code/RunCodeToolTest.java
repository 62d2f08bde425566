package io.nomadshell.daemon.tool.code;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.daemon.tool.TestTools;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.proto.v1.CodeOutput;
import io.nomadshell.proto.v1.RunCodeAction;
import io.nomadshell.proto.v1.RunCodeResult;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** run_code against a real Jupyter Server with real kernels (ipykernel, tslab). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunCodeToolTest {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G'};

    private JupyterServer server;
    private RunCodeTool tool;
    private final List<String> live = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start(@TempDir Path workspace, @TempDir Path scratch) {
        server = new JupyterServer(TestTools.options(scratch), workspace);
        server.useToken(TestTools.JUPYTER_TOKEN);
        tool = new RunCodeTool(server);
    }

    @AfterAll
    void stop() {
        tool.close();
        server.close();
    }

    @Test
    void stateSurvivesBetweenCalls() throws Exception {
        run("python", "x = 20", 0);
        RunCodeResult result = run("python", "x + 22", 0);
        assertThat(result.getOutputsList()).extracting(CodeOutput::getKind, CodeOutput::getText)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(CodeOutput.Kind.RESULT, "42"));
        assertThat(result.getKernelRestarted()).isFalse();
    }

    @Test
    void streamsStdoutAndReportsErrorsWithTracebacks() throws Exception {
        RunCodeResult printed = run("python", "print('hello from the kernel')", 0);
        assertThat(printed.getOutputs(0).getKind()).isEqualTo(CodeOutput.Kind.STDOUT);
        assertThat(printed.getOutputs(0).getText()).isEqualTo("hello from the kernel\n");
        assertThat(live).contains("hello from the kernel\n");

        RunCodeResult failed = run("python", "def f():\n    return 1 / 0\nf()", 0);
        assertThat(failed.getErrorName()).isEqualTo("ZeroDivisionError");
        assertThat(failed.getErrorValue()).isEqualTo("division by zero");
        assertThat(failed.getTraceback()).contains("return 1 / 0").doesNotContain("\u001b[");
    }

    @Test
    void aMatplotlibPlotComesBackAsPng() throws Exception {
        RunCodeResult result = run("python", """
                import matplotlib.pyplot as plt
                plt.plot([1, 2, 3], [1, 4, 9])
                plt.show()
                """, 0);
        assertThat(result.getErrorName()).as(result.toString()).isEmpty();
        assertThat(result.getOutputsList()).anySatisfy(output -> {
            assertThat(output.getKind()).isEqualTo(CodeOutput.Kind.DISPLAY);
            assertThat(output.getPng().substring(0, 4).toByteArray()).isEqualTo(PNG_SIGNATURE);
        });
    }

    @Test
    void aLoopPastItsTimeoutIsInterruptedAndTheKernelSurvives() throws Exception {
        RunCodeResult set = run("python", "kept = 'still here'", 0);
        assertThat(set.getErrorName()).as("%s", set).isEmpty();
        RunCodeResult looping = run("python", "while True: pass", 2000);
        assertThat(looping.getTimedOut()).isTrue();
        assertThat(looping.getErrorName()).isEqualTo("KeyboardInterrupt");
        assertThat(looping.getKernelRestarted()).isFalse();

        RunCodeResult next = run("python", "kept", 0);
        assertThat(next.getOutputsList()).as("%s", next).extracting(CodeOutput::getText).containsExactly("'still here'");
    }

    @Test
    void aDeadKernelIsRestartedAndTheModelIsTold(@TempDir Path workspace, @TempDir Path scratch) throws Exception {
        // A server of its own: the restart must not race the other tests' calls.
        try (JupyterServer own = new JupyterServer(TestTools.options(scratch), workspace);
                RunCodeTool tool = new RunCodeTool(own)) {
            own.useToken(TestTools.JUPYTER_TOKEN);
            run(tool, "python", "doomed = 1", 0);
            // Jupyter notices the death within seconds; the timeout bounds the test if it does not.
            RunCodeResult died = run(tool, "python", "import os; os._exit(1)", 20_000);
            assertThat(died.getKernelRestarted()).isTrue();

            RunCodeResult after = run(tool, "python", "'doomed' in globals()", 0);
            assertThat(after.getOutputsList()).as("%s", after).extracting(CodeOutput::getText).containsExactly("False");
        }
    }

    @Test
    void javascriptRunsToo() throws Exception {
        RunCodeResult result = run("javascript", "[1, 2, 3].map(n => n * 2).join(',')", 0);
        assertThat(result.getOutputsList()).as("%s", result).anySatisfy(o -> assertThat(o.getText()).contains("2,4,6"));
    }

    @Test
    void typescriptRunsInItsOwnKernel() throws Exception {
        RunCodeResult result = run("typescript", "const a: number = 21; a * 2", 0);
        assertThat(result.getErrorName()).as(result.toString()).isEmpty();
        assertThat(result.getOutputsList()).extracting(o -> o.getText().strip()).contains("42");
    }

    @Test
    void refusesAnUnknownLanguage() {
        assertThatThrownBy(() -> run("cobol", "DISPLAY 'HI'", 0))
                .isInstanceOf(ToolException.class)
                .hasMessage("run_code: unknown language 'cobol'; use python, typescript or javascript");
    }

    private RunCodeResult run(String language, String code, int timeoutMs) throws Exception {
        return run(tool, language, code, timeoutMs);
    }

    private RunCodeResult run(RunCodeTool tool, String language, String code, int timeoutMs) throws Exception {
        return tool.run(RunCodeAction.newBuilder().setLanguage(language).setCode(code).setTimeoutMs(timeoutMs).build(),
                (kind, text) -> live.add(text));
    }
}
