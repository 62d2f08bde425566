package io.nomadshell.controlplane.launch.nomad;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NomadOptionsTest {

    @Test
    void readsTheNomadCliEnvironmentAndNeverPrintsTheToken() {
        var options = NomadOptions.fromEnv(Map.of("NOMAD_ADDR", "http://nomad.internal:4646", "NOMAD_TOKEN", "s3cret",
                "NOMAD_REGION", "eu", "NOMAD_NAMESPACE", "agents")).attachAddress("cp.internal:8080", "").build();

        assertThat(options.address()).isEqualTo(URI.create("http://nomad.internal:4646"));
        assertThat(options.token()).isEqualTo("s3cret");
        assertThat(options.region()).isEqualTo("eu");
        assertThat(options.namespace()).isEqualTo("agents");
        assertThat(options.toString()).doesNotContain("s3cret").contains("token=(redacted)");
    }

    @Test
    void withoutEnvironmentTalksToTheLocalAgent() {
        var options = NomadOptions.fromEnv(Map.of()).attachSocket(Path.of("/srv/ns/attach/attach.sock")).build();

        assertThat(options.address()).isEqualTo(URI.create("http://127.0.0.1:4646"));
        assertThat(options.token()).isNull();
        assertThat(options.attachTarget()).isEqualTo("unix:///run/nomad-shell/attach.sock");
        assertThat(options.attachSocketDirectory()).isEqualTo(Path.of("/srv/ns/attach"));
        assertThat(options.attachTargets()).as("no peers: this replica alone").isEqualTo(options.attachTarget());
    }

    @Test
    void daemonsDialThisReplicaFirstThenItsPeers() {
        var options = NomadOptions.fromEnv(Map.of()).attachSocket(Path.of("/srv/ns/attach/a.sock"))
                .attachPeers(List.of("unix:///run/nomad-shell/b.sock", "unix:///run/nomad-shell/a.sock", "cp-3:7443"))
                .build();

        assertThat(options.attachTargets())
                .isEqualTo("unix:///run/nomad-shell/a.sock,unix:///run/nomad-shell/b.sock,cp-3:7443");
    }

    @Test
    void theJobFileGetsEveryValueAsAVariableSafelyQuoted() {
        var options = NomadOptions.fromEnv(Map.of()).image("reg.example/sandbox:\"1\"${x}")
                .attachAddress("cp:8080", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").build();

        assertThat(SandboxJobTemplate.variables(options, new SandboxProfile(750, 512, 64))).isEqualTo("""
                image = "reg.example/sandbox:\\"1\\"$${x}"
                runtime = "runc"
                cpu = 750
                memory = 512
                disk = 64
                network_mode = "bridge"
                attach = "cp:8080"
                attach_socket_dir = ""
                attach_ca = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
                """);
        assertThat(new SandboxProfile(750, 512, 64).parentJobId("nomad-shell-sandbox"))
                .isEqualTo("nomad-shell-sandbox-c750-m512-d64");
    }
}
