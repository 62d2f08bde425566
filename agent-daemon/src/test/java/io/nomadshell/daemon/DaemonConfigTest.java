package io.nomadshell.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DaemonConfigTest {

    private static InputStream stdin(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void readsTheEnvironmentAndTheTokenFromTheFirstLineOfStandardInput() {
        DaemonConfig config = DaemonConfig.fromEnv(Map.of(
                "NOMAD_SHELL_ATTACH", "unix:///run/nomad-shell/attach.sock"), stdin("s3cret\nnot this\n"));

        assertThat(config.attachTarget()).isEqualTo("unix:///run/nomad-shell/attach.sock");
        assertThat(config.token()).isEqualTo("s3cret");
        assertThat(config.workspace()).isEqualTo(Path.of("/workspace"));
        assertThat(config.attachCa()).isNull();
    }

    @Test
    void takesTheWorkspaceAndTheAttachCaFromTheEnvironment(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        DaemonConfig config = DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "10.0.0.5:7443",
                "NOMAD_SHELL_WORKSPACE", "/srv/ws", "NOMAD_SHELL_ATTACH_CA", ca.toString()), stdin("t"));

        assertThat(config.workspace()).isEqualTo(Path.of("/srv/ws"));
        assertThat(config.attachCa()).isEqualTo(ca);
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "10.0.0.5:7443",
                "NOMAD_SHELL_ATTACH_CA", dir.resolve("missing.pem").toString()), stdin("t")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("NOMAD_SHELL_ATTACH_CA names no readable file");
    }

    @Test
    void takesSeveralAttachAddressesCommaSeparatedAndChecksEach() {
        DaemonConfig config = DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH",
                "unix:///run/nomad-shell/a.sock, cp-2.example:7443"), stdin("t"));

        assertThat(config.attachTargets()).containsExactly("unix:///run/nomad-shell/a.sock", "cp-2.example:7443");
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "unix:///a.sock,nonsense"),
                stdin("t")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("NOMAD_SHELL_ATTACH must be unix:///path/to/attach.sock or host:port, not 'nonsense'");
    }

    @Test
    void requiresTheAttachAddressAndAToken() {
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of(), stdin("t\n")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("NOMAD_SHELL_ATTACH is not set");
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "localhost:7443"), stdin("")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("no launch credential: the daemon reads it as one line on standard input");
    }

    @Test
    void neverTakesTheTokenFromTheEnvironment() {
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "localhost:7443",
                "NOMAD_SHELL_TOKEN", "in-env"), stdin("")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("no launch credential");
    }

    @Test
    void readsTheTokenFromTheFileNamedAndDeletesIt(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "from-file\n");

        assertThat(DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "cp:7443",
                "NOMAD_SHELL_TOKEN_FILE", file.toString()), stdin("")).token()).isEqualTo("from-file");
        assertThat(file).doesNotExist();
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "cp:7443",
                "NOMAD_SHELL_TOKEN_FILE", dir.resolve("missing").toString()), stdin("")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("NOMAD_SHELL_TOKEN_FILE names no readable file");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "localhost:", ":7443", "localhost:http", "localhost:70000", "unix://"})
    void rejectsAnUnusableAttachAddress(String target) {
        assertThatThrownBy(() -> DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", target), stdin("t")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("NOMAD_SHELL_ATTACH must be unix:///path/to/attach.sock or host:port, not '" + target + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"unix:///run/a.sock", "unix:/run/a.sock", "cp.internal:7443", "[::1]:7443", "dns:///cp:7443"})
    void acceptsTheAddressFormsGrpcDials(String target) {
        assertThat(DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", target), stdin("t")).attachTarget())
                .isEqualTo(target);
    }

    @Test
    void neverPrintsTheToken() {
        DaemonConfig config = DaemonConfig.fromEnv(Map.of("NOMAD_SHELL_ATTACH", "cp:7443"), stdin("s3cret"));

        assertThat(config.toString()).doesNotContain("s3cret").contains("redacted");
    }
}
