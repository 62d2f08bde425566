package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The front door as a new user meets it, through the real {@code ./nomad-shell} script at the root of
 * the repository: {@code --help} works, and a server that starts, runs a job and is stopped with
 * Ctrl-C prints only our own lines, no warning from a library or the JVM.
 */
class FrontDoorTest {
    private static final Duration START_BOUND = Duration.ofSeconds(120);
    private static final Duration JOB_BOUND = Duration.ofSeconds(90);
    private static final Duration STOP_BOUND = Duration.ofSeconds(30);
    private static final Pattern SERVING = Pattern.compile("serving on port (\\d+)");
    /**
     * Our logback pattern: {@code HH:mm:ss.SSS LEVEL Logger - message}, the logger's simple name, with
     * {@code job=<id> trace=<id>} before the dash while a job's thread logs.
     */
    private static final Pattern LOG_LINE = Pattern.compile(
            "^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (TRACE|DEBUG|INFO|WARN|ERROR) +(\\S+)(?: job=\\S+)?(?: trace=\\S+)? - .*");

    private ScriptedModelServer model;
    private Process server;

    @AfterEach
    void stop() throws Exception {
        if (server != null && server.isAlive()) {
            server.descendants().forEach(ProcessHandle::destroyForcibly);
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (model != null) model.close();
    }

    @Test
    void helpOnTheServerCommandExitsZero(@TempDir Path tmp) throws Exception {
        var out = tmp.resolve("out.txt");
        var err = tmp.resolve("err.txt");
        var help = new ProcessBuilder(script().toString(), "server", "--help")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(help.waitFor(START_BOUND.toSeconds(), TimeUnit.SECONDS)).as("nomad-shell server --help ended").isTrue();
        assertThat(help.exitValue()).as("exit code; stderr: %s", Files.readString(err)).isZero();
        assertThat(Files.readString(out)).contains("Usage: nomad-shell server").contains("--help").contains("--data-dir");
        assertThat(Files.readString(err)).isEmpty();
    }

    @Test
    void serverStartsRunsAJobAndStopsWithOnlyOurOwnLines(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        var log = tmp.resolve("server.log");
        // setsid: the script's process leads a process group of its own, as a shell's foreground job
        // does, so that Ctrl-C can be sent the way a terminal sends it: to the whole group.
        var builder = new ProcessBuilder("setsid", script().toString(), "server", "--port", "0", "--preview-port", "0",
                "--data-dir", tmp.resolve("data").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("OPENAI_BASE_URL", model.baseUrl());
        builder.environment().put("OPENAI_API_KEY", "test");
        builder.environment().put("NOMAD_SHELL_MODEL", "scripted");
        builder.environment().remove("REDIS_URL");
        builder.environment().remove("NOMAD_SHELL_LOG_LEVEL");
        server = builder.start();

        var rest = new Rest("http://127.0.0.1:" + awaitPort(log), null);
        var deadline = System.nanoTime() + START_BOUND.toNanos();
        while (rest.get("/internal/healthcheck").statusCode() != 200 && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(rest.get("/internal/healthcheck").statusCode()).as("healthcheck").isEqualTo(200);
        var job = rest.schedule(Fixtures.HELLO_TASK);
        assertThat(rest.awaitEnd(job, JOB_BOUND).last().path("status").asText()).isEqualTo("complete");

        var ctrlC = new ProcessBuilder("kill", "-INT", "--", "-" + server.pid()).inheritIO().start();
        assertThat(ctrlC.waitFor(10, TimeUnit.SECONDS) && ctrlC.exitValue() == 0).as("kill -INT to the group").isTrue();
        assertThat(server.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS)).as("the server stopped on Ctrl-C").isTrue();

        var ours = ourClassNames();
        var foreign = new ArrayList<String>();
        for (var line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            var logged = LOG_LINE.matcher(line);
            boolean own = logged.matches() ? ours.contains(logged.group(2)) : line.startsWith("Nomad Shell is serving on port");
            if (!own && !line.isBlank()) {
                foreign.add(line);
            }
        }
        assertThat(foreign).as("lines not from our own code in the server's output:\n%s", Files.readString(log)).isEmpty();
    }

    private int awaitPort(Path log) throws IOException {
        var deadline = System.nanoTime() + START_BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            var matcher = SERVING.matcher(Files.readString(log, StandardCharsets.UTF_8));
            if (matcher.find()) {
                return Integer.parseInt(matcher.group(1));
            }
            assertThat(server.isAlive()).as("the server is running; its output:\n%s", Files.readString(log)).isTrue();
            Rest.sleep(200);
        }
        throw new AssertionError("the server did not start within " + START_BOUND + ":\n" + Files.readString(log));
    }

    private static Path script() {
        var script = Path.of(System.getProperty("nomadshell.projectDir")).resolve("nomad-shell").toAbsolutePath().normalize();
        assertThat(script).isExecutable();
        return script;
    }

    /** The simple names of our classes in the jars the script runs (the CLI jar and its lib/). */
    private static Set<String> ourClassNames() throws IOException {
        var cliJar = ServerProcess.cliJar();
        var jars = new ArrayList<>(List.of(cliJar));
        try (var lib = Files.list(cliJar.resolveSibling("lib"))) {
            lib.filter(jar -> jar.toString().endsWith(".jar")).forEach(jars::add);
        }
        var names = new HashSet<String>();
        for (var jar : jars) {
            try (var file = new JarFile(jar.toFile())) {
                file.stream().map(entry -> entry.getName())
                        .filter(name -> name.startsWith("io/nomadshell/") && name.endsWith(".class"))
                        .forEach(name -> names.add(name.substring(name.lastIndexOf('/') + 1, name.length() - ".class".length())));
            }
        }
        assertThat(names).as("our classes in %s", jars).contains("NomadShell", "GatewayServer");
        return names;
    }
}
