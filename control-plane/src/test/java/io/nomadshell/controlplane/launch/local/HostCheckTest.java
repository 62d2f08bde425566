package io.nomadshell.controlplane.launch.local;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A host that cannot give sandboxes a uid of their own refuses to launch, saying why. */
class HostCheckTest {
    @Test
    void aRootControlPlaneWithUtilLinuxAndUserNamespacesMayLaunch() {
        assertThat(HostCheck.problem("0", tool -> true, "15000", null)).isEmpty();
        assertThat(HostCheck.problem("0", tool -> true, "15000", "1")).isEmpty();
    }

    @Test
    void anythingMissingIsNamed() {
        assertThat(HostCheck.problem("1000", tool -> true, "15000", null)).isEqualTo(
                "local sandboxes run as an unprivileged uid of their own, which only a control plane running "
                        + "as root can give them (this one runs as uid 1000)");
        assertThat(HostCheck.problem("0", tool -> !tool.equals("setpriv"), "15000", null))
                .isEqualTo("local sandboxes need util-linux's setpriv, which is not installed");
        assertThat(HostCheck.problem("0", tool -> true, "0", null)).isEqualTo(
                "local sandboxes need user namespaces, which this host disables (user.max_user_namespaces = 0)");
        assertThat(HostCheck.problem("0", tool -> true, "15000", "0")).isEqualTo(
                "local sandboxes need unprivileged user namespaces, which this host disables "
                        + "(kernel.unprivileged_userns_clone = 0)");
    }
}
