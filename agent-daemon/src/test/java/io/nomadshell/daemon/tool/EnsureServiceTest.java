package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.EnsureServiceAction;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ensure_service brings up noVNC and Jupyter for a user, and says where they answer. */
class EnsureServiceTest {

    @TempDir
    Path workspace;

    @TempDir
    Path scratch;

    private ToolOptions options;
    private ToolDispatcher dispatcher;

    @BeforeEach
    void setUp() throws Exception {
        options = TestTools.options(scratch);
        dispatcher = new ToolDispatcher(Workspace.open(workspace), options);
    }

    @AfterEach
    void tearDown() {
        dispatcher.stopAll();
    }

    private ToolResult ensure(String service) {
        return dispatcher.dispatch(ToolCall.newBuilder().setCallId("c")
                .setEnsureService(EnsureServiceAction.newBuilder().setService(service)).build(), new Recorder());
    }

    private static int get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void theDesktopIsServedByNoVncAndShellCommandsSeeItsDisplay() throws Exception {
        ToolResult result = ensure("desktop");

        assertThat(result.getError()).isEmpty();
        assertThat(result.getEnsureService().getPort()).isEqualTo(options.desktopWebPort());
        assertThat(get(options.desktopWebPort(), "/vnc.html")).isEqualTo(200);
        ToolResult display = dispatcher.dispatch(ToolCall.newBuilder().setCallId("d")
                .setExec(ExecAction.newBuilder().setCommand("xdotool getdisplaygeometry")).build(), new Recorder());
        assertThat(display.getExec().getOutput()).isEqualTo("1280 800\n");
    }

    @Test
    void aDeadPartOfTheDesktopIsRestartedByTheWatchdog() throws Exception {
        ensure("desktop");
        ProcessHandle websockify = ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("websockify"))
                .filter(p -> p.info().commandLine().orElse("").contains(":" + options.desktopWebPort()))
                .findFirst().orElseThrow();
        websockify.destroyForcibly();
        websockify.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);

        // Nobody calls a tool: the watchdog alone brings noVNC back.
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        int status = 0;
        while (status != 200 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            try {
                status = get(options.desktopWebPort(), "/vnc.html");
            } catch (java.io.IOException notYet) {
                status = 0;
            }
        }
        assertThat(status).isEqualTo(200);
    }

    @Test
    void jupyterAnswersOnItsPort() throws Exception {
        ToolResult result = ensure("jupyter");

        assertThat(result.getError()).isEmpty();
        assertThat(result.getEnsureService().getPort()).isEqualTo(options.jupyterPort());
        assertThat(get(options.jupyterPort(), TestTools.JUPYTER_BASE_URL + "api/status")).isEqualTo(200);
    }

    @Test
    void anUnknownServiceIsRefused() {
        assertThat(ensure("printer").getError()).isEqualTo("unknown service 'printer'; the services are desktop and jupyter");
    }
}
