package io.nomadshell.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DaemonConfigTest {

    @Test
    void readsTheEnvironmentWithADefaultWorkspace() {
        DaemonConfig config = DaemonConfig.fromEnv(Map.of(
                "NOMAD_SHELL_ATTACH", "unix:///run/nomad-shell/attach.sock",
                "NOMAD_SHELL_TOKEN", "s3cret"));

        assertThat(config.attachTarget()).isEqualTo("unix:///run/nomad-shell/attach.sock");
        assertThat(config.token()).isEqualTo("s3cret");
        assertThat(config.workspace()).isEqualTo(Path.of("/workspace"));
    }

    @Test
    void takesTheWorkspaceFromTheEnvironment() {
        DaemonConfig config = DaemonConfig.fromEnv(Map.of(
                "NOMAD_SHELL_ATTACH", "10.0.0.5:7443", "NOMAD_SHELL_TOKEN", "t", "NOMAD_SHELL_WORKSPACE", "/srv/ws"));

        assertThat(config.workspace()).isEqualTo(Path.of("/srv/ws"));
    }

    @Test
    void requiresTheAttachAddressAndTheToken() {
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_TOKEN", "t")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("NOMAD_SHELL_ATTACH is not set");
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "localhost:7443")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("NOMAD_SHELL_TOKEN is not set");
    }

    @Test
    void readsTheTokenFromTheFileNamedWhenNotInTheEnvironment(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "from-file\n");

        assertThat(DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "cp:7443",
                "NOMAD_SHELL_TOKEN_FILE", file.toString())).token()).isEqualTo("from-file");
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "cp:7443",
                "NOMAD_SHELL_TOKEN_FILE", dir.resolve("missing").toString())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("NOMAD_SHELL_TOKEN_FILE names no readable file");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "localhost:", ":7443", "localhost:http", "localhost:70000", "unix://"})
    void rejectsAnUnusableAttachAddress(String target) {
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", target, "NOMAD_SHELL_TOKEN", "t")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("NOMAD_SHELL_ATTACH must be unix:///path/to/attach.sock or host:port, not '" + target + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix:///run/a.sock", "unix:/run/a.sock", "cp.internal:7443", "[::1]:7443", "dns:///cp:7443"})
    void acceptsTheAddressFormsGrpcDials(String target) {
        assertThat(DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", target, "NOMAD_SHELL_TOKEN", "t")).attachTarget())
                .isEqualTo(target);
    }

    @Test
    void neverPrintsTheToken() {
        DaemonConfig config = DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "cp:7443", "NOMAD_SHELL_TOKEN", "s3cret"));

        assertThat(config.toString()).doesNotContain("s3cret").contains("redacted");
    }
}
