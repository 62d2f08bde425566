package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.SandboxResources;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Nomad launcher's settings refuse what Nomad would not take, in words, before Nomad is asked anything. */
class SandboxSettingsTest {
    @Test
    void aJobPrefixNomadCannotNameJobsWithIsRefusedInWords() {
        var settings = new SandboxSettings();
        settings.jobPrefix = "Team A";

        assertThatThrownBy(() -> settings.nomadLauncher(Path.of("/nonexistent/attach.sock"), null, false,
                SandboxResources.DEFAULT))
                .isInstanceOf(UserError.class)
                .hasMessage("the Nomad job prefix must be 1 to 41 lowercase letters, digits and dashes,"
                        + " starting with a letter or digit, not \"Team A\"");
    }

    @Test
    void aNamespaceNomadCannotHaveIsRefusedInWords() {
        var settings = new SandboxSettings();
        settings.nomadNamespace = "team a";

        assertThatThrownBy(() -> settings.nomadLauncher(Path.of("/nonexistent/attach.sock"), null, false,
                SandboxResources.DEFAULT))
                .isInstanceOf(UserError.class)
                .hasMessage("a Nomad namespace is 1 to 128 letters, digits and dashes, not \"team a\"");
    }

    @Test
    void anAttachPeerThatIsNoAddressIsRefusedInWords() {
        var settings = new SandboxSettings();
        settings.attachPeers = List.of("unix:///run/nomad-shell/b.sock", "replica b");

        assertThatThrownBy(() -> settings.nomadLauncher(Path.of("/nonexistent/attach.sock"), null, false,
                SandboxResources.DEFAULT))
                .isInstanceOf(UserError.class)
                .hasMessage("--attach-peers: 'replica b' is not an Attach address as sandboxes dial it "
                        + "(unix:///run/nomad-shell/<socket> or host:port)");
    }
}
