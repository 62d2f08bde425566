package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server image that {@code server-image/build.sh} builds, run as compose.yaml runs it: beside the
 * Redis image on a network of their own, the API published on 127.0.0.1 only. By default it runs as a
 * non-root user and its health check turns healthy; given the local launcher's privileges (root in the
 * container, CAP_SYS_ADMIN, no seccomp profile, unmasked /proc, loop devices) a job scheduled through
 * the published API completes in a bubblewrap sandbox inside the container, with the scripted model
 * served from the same image on the server's loopback.
 */
class ServerImageTest {
    private static final String IMAGE = "nomad-shell:e2e";
    private static final String REDIS_IMAGE = "nomad-shell-redis:e2e";
    private static final String RUN = "nomad-shell-e2e-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String NETWORK = RUN;
    private static final String API_KEY = "e2e-" + UUID.randomUUID();
    private static final List<String> containers = new ArrayList<>();

    @BeforeAll
    static void buildAndNetwork() throws Exception {
        requireDocker();
        var project = Path.of(System.getProperty("nomadshell.projectDir", "..")).toAbsolutePath().normalize();
        // --toolset: local sandboxes see the server's /usr, and the scripted task runs python3.
        var build = NomadTestbed.run(List.of("bash", project.resolve("server-image/build.sh").toString(), "--toolset",
                "--tag", IMAGE, "--redis-tag", REDIS_IMAGE), Duration.ofMinutes(15));
        assertThat(build.exit()).as("server-image/build.sh: %s", build.output()).isZero();
        docker("network", "create", NETWORK);
    }

    @AfterAll
    static void removeEverything() throws IOException {
        // Even when a test failed: nothing of this run stays behind.
        for (var container : containers) {
            NomadTestbed.run(List.of("docker", "rm", "-f", "-v", container), Duration.ofSeconds(60));
        }
        NomadTestbed.run(List.of("docker", "network", "rm", NETWORK), Duration.ofSeconds(60));
    }

    @Test
    void runsAsANonRootUserKeepsItsJobsInTheRedisContainerAndTurnsHealthy() throws Exception {
        var redis = start("redis", REDIS_IMAGE);
        var server = start("server", "-e", "REDIS_URL=redis://" + redis + ":6379",
                "-e", "OPENAI_BASE_URL=http://127.0.0.1:8082/v1", IMAGE);

        awaitHealthy(server);
        assertThat(docker("exec", server, "id", "-u").strip()).isEqualTo("10001");
        // The server itself (pid 1), not only what exec starts.
        assertThat(docker("exec", server, "stat", "-c", "%u", "/proc/1").strip()).isEqualTo("10001");
        assertThat(docker("image", "inspect", "-f",
                "{{index .Config.Labels \"org.opencontainers.image.title\"}} {{index .Config.Labels \"org.opencontainers.image.version\"}}",
                IMAGE).strip()).isEqualTo("nomad-shell 0.1.0-SNAPSHOT");
        // The server registered itself in the Redis container, not in a private one.
        assertThat(docker("exec", redis, "redis-cli", "dbsize").strip()).isNotEqualTo("0");
    }

    @Test
    void aJobScheduledThroughThePublishedApiCompletesInALocalSandboxInTheContainer() throws Exception {
        int port = freePort();
        var server = start("local", localLauncherPrivileges(), "-p", "127.0.0.1:" + port + ":8080",
                "-e", "NOMAD_SHELL_API_KEYS=" + API_KEY, "-e", "OPENAI_BASE_URL=http://127.0.0.1:8082/v1", IMAGE);
        // The scripted model on the server's own loopback: nothing else is reached.
        start("model", "--network", "container:" + server, "--no-healthcheck", IMAGE, "mock-llm", "--port", "8082");
        awaitHealthy(server);
        assertThat(docker("port", server, "8080/tcp").strip()).isEqualTo("127.0.0.1:" + port);

        var rest = new Rest("http://127.0.0.1:" + port, API_KEY);
        var id = rest.schedule("Create a Python script that prints Hello World");
        var ended = rest.awaitEnd(id, Duration.ofMinutes(3)).last();

        assertThat(ended.path("status").asText()).as("%s\nserver log:\n%s", ended, logs(server)).isEqualTo("complete");
        var zip = rest.getBytes("/download/" + id);
        assertThat(zip.statusCode()).isEqualTo(200);
        assertThat(Fixtures.unzip(zip.body())).containsEntry("hello.py", Fixtures.HELLO_PY)
                .containsEntry("README.md", Fixtures.HELLO_README);
        // The loop devices gave the workspace its disk cap.
        assertThat(logs(server)).contains("MiB disk cap");
    }

    /** What compose.yaml gives the server for the local launcher, and no more (see the README). */
    private static List<String> localLauncherPrivileges() {
        var options = new ArrayList<>(List.of("--user", "0", "--cap-add", "SYS_ADMIN",
                "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
                "--security-opt", "systempaths=unconfined", "--device", "/dev/loop-control"));
        for (int i = 0; i < 8; i++) {
            if (Files.exists(Path.of("/dev/loop" + i))) {
                options.addAll(List.of("--device", "/dev/loop" + i));
            }
        }
        return options;
    }

    /** Starts a container of this run on its network, named {@code <run>-<role>}; returns its name. */
    private static String start(String role, Object... arguments) throws IOException {
        var name = RUN + "-" + role;
        var command = new ArrayList<>(List.of("run", "-d", "--name", name));
        containers.add(name);
        var options = new ArrayList<String>();
        for (var argument : arguments) {
            if (argument instanceof List<?> list) {
                list.forEach(item -> options.add(item.toString()));
            } else {
                options.add(argument.toString());
            }
        }
        if (!options.contains("--network")) {
            command.addAll(List.of("--network", NETWORK));
        }
        command.addAll(options);
        docker(command.toArray(String[]::new));
        return name;
    }

    private static void awaitHealthy(String container) throws IOException {
        var deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        String health = "";
        while (System.nanoTime() < deadline) {
            health = docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", container).strip();
            if (health.equals("running healthy")) {
                return;
            }
            if (!health.startsWith("running")) {
                break;
            }
            Rest.sleep(500);
        }
        fail("%s is %s, not healthy; its log:\n%s", container, health, logs(container));
    }

    private static String logs(String container) throws IOException {
        return NomadTestbed.run(List.of("docker", "logs", "--tail", "60", container), Duration.ofSeconds(30)).output();
    }

    private static String docker(String... arguments) throws IOException {
        var command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(arguments));
        var result = NomadTestbed.run(command, Duration.ofMinutes(2));
        assertThat(result.exit()).as("%s: %s", command, result.output()).isZero();
        return result.output();
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void requireDocker() throws IOException {
        if (NomadTestbed.run(List.of("docker", "info"), Duration.ofSeconds(30)).exit() != 0) {
            var message = "the Docker engine does not answer (start it with testbed/nomad-testbed.sh start)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
    }
}
