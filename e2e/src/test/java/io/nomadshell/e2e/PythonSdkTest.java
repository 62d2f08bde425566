package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python SDK (clients/python) against a real server: builds the package (its stubs generated
 * from proto/ on the way), then runs its pytest suite with the server's address, an API key and
 * the workspaces directory (where each job of the python-sdk scenario waits on a pipe) in the
 * environment. Fails with pytest's output when a Python test fails, and when any was skipped.
 */
class PythonSdkTest {
    private static final String KEY = "python-sdk-key";
    private static final Duration PYTEST_TIMEOUT = Duration.ofMinutes(5);

    @Test
    void pytestPassesAgainstARealServer(@TempDir Path tmp) throws Exception {
        var sdk = Path.of(System.getProperty("nomadshell.projectDir")).resolve("clients/python").toAbsolutePath().normalize();
        var venv = PythonVenv.cached("python-sdk-venv", sdk.resolve("requirements-test.txt"));
        var site = tmp.resolve("site");
        // The package as a user installs it; its build requirements come from the venv.
        venv.python(List.of("-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                "--no-build-isolation", "--target", site.toString(), sdk.toString()), Map.of(), sdk, PYTEST_TIMEOUT);

        var dataDir = tmp.resolve("server");
        try (var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("python-sdk", tmp, "")).build().start();
                var cluster = TestCluster.start(dataDir, model.baseUrl(), 4, ApiKeys.of(Set.of(KEY)))) {
            var output = venv.python(List.of("-m", "pytest", "-p", "no:cacheprovider", "-rs", "--durations=3",
                    "--basetemp", tmp.resolve("pytest").toString(), "tests"), Map.of(
                    "PYTHONPATH", site.toString(),
                    "PYTHONDONTWRITEBYTECODE", "1",
                    "NOMAD_SHELL_SERVER", "127.0.0.1:" + cluster.port(),
                    "NOMAD_SHELL_API_KEY", KEY,
                    "NOMAD_SHELL_TEST_WORKSPACES", dataDir.resolve("workspaces").toString()), sdk, PYTEST_TIMEOUT);
            System.out.println(output);
            assertThat(output).as(output).containsPattern("\\b\\d+ passed\\b").doesNotContain("skipped");
        }
    }
}
