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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
        dispatcher.useJupyterToken(TestTools.JUPYTER_TOKEN);
    }

    @AfterEach
    void tearDown() {
        dispatcher.stopAll();
    }

    private ToolResult ensure(String service) {
        return dispatcher.dispatch(ToolCall.newBuilder().setCallId("c")
                .setEnsureService(EnsureServiceAction.newBuilder().setService(service)).build(), new Recorder());
    }

    private static int get(int port, String path, String... headers) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
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
    void jupyterAnswersOnItsPortOnlyWithItsToken() throws Exception {
        ToolResult result = ensure("jupyter");

        assertThat(result.getError()).isEmpty();
        assertThat(result.getEnsureService().getPort()).isEqualTo(options.jupyterPort());
        int port = options.jupyterPort();
        assertThat(get(port, "/api/status", "Authorization", "token " + TestTools.JUPYTER_TOKEN)).isEqualTo(200);
        assertThat(get(port, "/api/kernels")).as("no token").isEqualTo(403);
        assertThat(get(port, "/api/kernels", "Authorization", "token wrong")).as("a wrong token").isEqualTo(403);
        assertThat(get(port, "/api/kernels?token=" + TestTools.JUPYTER_TOKEN)).isEqualTo(200);
    }

    @Test
    void jupytersTokenIsInNoArgvOrEnvironmentButAPrivateFile() throws Exception {
        assertThat(ensure("jupyter").getError()).isEmpty();

        var config = scratch.resolve("jupyter/config/jupyter_server_config.json");
        assertThat(Files.readString(config)).contains(TestTools.JUPYTER_TOKEN);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
        var servers = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("--port=" + options.jupyterPort()))
                .toList();
        assertThat(servers).as("the Jupyter Server process").isNotEmpty();
        for (var server : servers) {
            var proc = Path.of("/proc", Long.toString(server.pid()));
            assertThat(new String(Files.readAllBytes(proc.resolve("cmdline")))).doesNotContain(TestTools.JUPYTER_TOKEN);
            assertThat(new String(Files.readAllBytes(proc.resolve("environ")))).doesNotContain(TestTools.JUPYTER_TOKEN);
        }
    }

    @Test
    void aNewTokenRestartsJupyterWithIt() throws Exception {
        assertThat(ensure("jupyter").getError()).isEmpty();
        dispatcher.useJupyterToken("another-token-of-the-control-plane");

        assertThat(ensure("jupyter").getError()).isEmpty();
        int port = options.jupyterPort();
        assertThat(get(port, "/api/status", "Authorization", "token another-token-of-the-control-plane")).isEqualTo(200);
        assertThat(get(port, "/api/kernels", "Authorization", "token " + TestTools.JUPYTER_TOKEN)).isEqualTo(403);
    }

    @Test
    void anUnknownServiceIsRefused() {
        assertThat(ensure("printer").getError()).isEqualTo("unknown service 'printer'; the services are desktop and jupyter");
    }
}
