package io.nomadshell.controlplane.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Host patterns, and the policy that combines a job's list with the operator's cap. */
class HostPatternTest {

    @Test
    void anExactNameMatchesItselfInAnySpelling() {
        var pattern = HostPattern.parse("Packages.Example.com.");

        assertThat(pattern.text()).isEqualTo("packages.example.com");
        assertThat(pattern.matches("packages.example.com")).isTrue();
        assertThat(pattern.matches("PACKAGES.example.com.")).isTrue();
        assertThat(pattern.matches("evil.packages.example.com")).isFalse();
        assertThat(pattern.matches("packages.example.com.evil")).isFalse();
        assertThat(pattern.matches("xpackages.example.com")).isFalse();
    }

    @Test
    void aWildcardMatchesSubdomainsOnly() {
        var pattern = HostPattern.parse("*.example.org");

        assertThat(pattern.matches("a.example.org")).isTrue();
        assertThat(pattern.matches("a.b.example.org")).isTrue();
        assertThat(pattern.matches("example.org")).isFalse();
        assertThat(pattern.matches("badexample.org")).isFalse();
        assertThat(pattern.matches("example.org.evil")).isFalse();
    }

    @Test
    void ipLiteralsAndAnyHostAreAccepted() {
        assertThat(HostPattern.parse("[::1]").matches("::1")).isTrue();
        assertThat(HostPattern.parse("127.0.0.1").matches("127.0.0.1")).isTrue();
        assertThat(HostPattern.parse("*").matches("anything.example")).isTrue();
    }

    @Test
    void nonsenseIsRefused() {
        for (var text : List.of("", "*.", "a..b", "-a.example", "a b", "*.*.example", "ex*ample.org", "http://x", "a/b")) {
            assertThatThrownBy(() -> HostPattern.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void withinComparesWhatTwoPatternsName() {
        var cap = HostPattern.parse("*.example.org");

        assertThat(HostPattern.parse("a.example.org").within(cap)).isTrue();
        assertThat(HostPattern.parse("*.a.example.org").within(cap)).isTrue();
        assertThat(HostPattern.parse("*.example.org").within(cap)).isTrue();
        assertThat(HostPattern.parse("example.org").within(cap)).isFalse();
        assertThat(HostPattern.parse("*.org").within(cap)).isFalse();
        assertThat(HostPattern.parse("*").within(cap)).isFalse();
        assertThat(HostPattern.parse("*.example.org").within(HostPattern.parse("a.example.org"))).isFalse();
        assertThat(cap.within(HostPattern.parse("*"))).isTrue();
    }

    @Test
    void aJobReachesOnlyWhatItsListAndTheCapBothName() {
        var policy = EgressPolicy.parse("*.example.org, pypi.org", "");

        assertThat(policy.refusal("a.example.org", List.of("a.example.org"))).isEmpty();
        assertThat(policy.refusal("b.example.org", List.of("a.example.org")))
                .contains("egress to b.example.org is not allowed for this job (allowed: a.example.org)");
        assertThat(policy.refusal("pypi.org", List.of()))
                .contains("egress to pypi.org is not allowed: this job may reach no host (schedule it with egress.allow)");
        // A job granted under a wider cap than the server has now.
        assertThat(policy.refusal("files.pythonhosted.org", List.of("files.pythonhosted.org")))
                .contains("egress to files.pythonhosted.org is outside this server's --egress-allow");
    }

    @Test
    void specialAddressesAreAllowedOnlyInTheOperatorsBlocks() throws Exception {
        var policy = EgressPolicy.parse("localhost", "127.0.0.0/8");

        assertThat(policy.allowsSpecial(InetAddress.getByName("127.0.0.1"))).isTrue();
        assertThat(policy.allowsSpecial(InetAddress.getByName("::ffff:127.0.0.1"))).isTrue();
        assertThat(policy.allowsSpecial(InetAddress.getByName("::1"))).isFalse();
        assertThat(policy.allowsSpecial(InetAddress.getByName("10.0.0.1"))).isFalse();
        assertThat(EgressPolicy.NONE.allowsSpecial(InetAddress.getByName("127.0.0.1"))).isFalse();
    }

    @Test
    void badFlagsAreNamed() {
        assertThatThrownBy(() -> EgressPolicy.parse("pypi.org, a b", ""))
                .hasMessage("--egress-allow: 'a b' is not a host name, an IP address, *.name or *");
        assertThatThrownBy(() -> EgressPolicy.parse("", "127.0.0.0/40"))
                .hasMessageStartingWith("--egress-allow-private: ");
    }
}
