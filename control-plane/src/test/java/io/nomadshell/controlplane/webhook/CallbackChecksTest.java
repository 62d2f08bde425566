package io.nomadshell.controlplane.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.JobException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a callback_url must be, what the allowlist lets through, and where a delivery may connect. */
class CallbackChecksTest {
    private static final WebhookSecrets ALICE_ONLY = owner -> owner.equals("alice")
            ? Optional.of("alice-secret-0123456789".getBytes(StandardCharsets.UTF_8)) : Optional.empty();

    /** Names resolved from a table, as a DNS server an attacker runs would answer. */
    private static WebhookAddresses.Resolver dns(Map<String, String> table) {
        return host -> {
            var address = table.getOrDefault(host, host.matches("[0-9a-f.:]+") ? host : null);
            if (address == null) {
                throw new UnknownHostException(host);
            }
            return new InetAddress[] {InetAddress.getByName(address)};
        };
    }

    private static Webhooks webhooks(String allow, Map<String, String> dns) {
        var hosts = WebhookOptions.parseHosts(allow);
        return new Webhooks(WebhookOptions.NONE.withAllowHosts(hosts), ALICE_ONLY, new WebhookAddresses(hosts, dns(dns)));
    }

    private static void refused(Webhooks webhooks, String owner, String url, String events, String words) {
        assertThatThrownBy(() -> webhooks.accept(owner, url, events))
                .isInstanceOfSatisfying(JobException.class, e -> assertThat(e.reason()).isEqualTo(JobException.Reason.INVALID_ARGUMENT))
                .hasMessageContaining(words);
    }

    @Test
    void anEmptyAllowlistRefusesEveryCallbackNamingTheFlag() {
        refused(webhooks("", Map.of()), "alice", "https://hooks.example.com/x", "", "--webhook-allow-hosts");
    }

    @Test
    void urlsThatAreNotPlainHttpOrHttpsAreRefused() {
        var webhooks = webhooks("hooks.example.com", Map.of("hooks.example.com", "93.184.216.34"));
        refused(webhooks, "alice", "ftp://hooks.example.com/x", "", "http:// or https://");
        refused(webhooks, "alice", "file:///etc/passwd", "", "http:// or https://");
        refused(webhooks, "alice", "https://user:pw@hooks.example.com/x", "", "user or password");
        refused(webhooks, "alice", "https://hooks.example.com/x#frag", "", "fragment");
        refused(webhooks, "alice", "https://hooks.example.com/ x", "", "not a URL");
        refused(webhooks, "alice", "https://hooks.example.com/x", "sometimes", "callback_events");
        refused(webhooks("hooks.example.com", Map.of()), "alice", "", "all", "callback_url is not");
    }

    @Test
    void theHostAndPortMustBeOnTheAllowlist() {
        var webhooks = webhooks("hooks.example.com, *.hooks.example.org, 127.0.0.1:9000",
                Map.of("hooks.example.com", "93.184.216.34", "a.hooks.example.org", "93.184.216.35",
                        "evil.example.net", "93.184.216.36"));
        assertThat(webhooks.accept("alice", "https://hooks.example.com/in", "").url().port()).isEqualTo(443);
        assertThat(webhooks.accept("alice", "http://a.hooks.example.org/in?x=1", "all").allChanges()).isTrue();
        assertThat(webhooks.accept("alice", "http://127.0.0.1:9000/hook", "terminal").url().target()).isEqualTo("/hook");
        refused(webhooks, "alice", "https://evil.example.net/in", "", "not on the server's webhook allowlist");
        refused(webhooks, "alice", "https://hooks.example.com:8443/in", "", "not on the server's webhook allowlist");
        refused(webhooks, "alice", "http://127.0.0.1:6379/", "", "not on the server's webhook allowlist");
        refused(webhooks, "alice", "http://127.0.0.2:9000/", "", "not on the server's webhook allowlist");
    }

    @Test
    void anOwnerWithoutAWebhookSecretIsRefused() {
        var webhooks = webhooks("hooks.example.com", Map.of("hooks.example.com", "93.184.216.34"));
        refused(webhooks, "bob", "https://hooks.example.com/in", "", "no webhook secret");
    }

    @Test
    void anAllowedNameThatResolvesInwardIsRefused() {
        // The operator allowed a name; its DNS points at loopback, a private network or the metadata service.
        for (var inward : List.of("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1")) {
            var webhooks = webhooks("hooks.example.com, localhost:6379", Map.of("hooks.example.com", inward, "localhost", "127.0.0.1"));
            refused(webhooks, "alice", "https://hooks.example.com/in", "", "resolves to");
            refused(webhooks, "alice", "http://localhost:6379/", "", "names that address itself");
        }
    }

    @Test
    void aRebindingBetweenScheduleAndDeliveryReachesNothingInside() throws Exception {
        var hosts = WebhookOptions.parseHosts("hooks.example.com");
        var answers = new java.util.concurrent.atomic.AtomicReference<>("93.184.216.34");
        var addresses = new WebhookAddresses(hosts, host -> new InetAddress[] {InetAddress.getByName(answers.get())});
        var url = CallbackUrl.parse("https://hooks.example.com/in");
        assertThat(addresses.resolve(url)).extracting(InetAddress::getHostAddress).containsExactly("93.184.216.34");
        answers.set("127.0.0.1");
        assertThatThrownBy(() -> addresses.resolve(url)).isInstanceOf(WebhookRefusedException.class)
                .hasMessageContaining("a loopback address");
    }

    @Test
    void aLoopbackAddressIsReachedWhenListedItself() throws Exception {
        var hosts = WebhookOptions.parseHosts("127.0.0.1:9000,[::1]:9001");
        var addresses = new WebhookAddresses(hosts);
        assertThat(addresses.resolve(CallbackUrl.parse("http://127.0.0.1:9000/"))).hasSize(1);
        assertThat(addresses.resolve(CallbackUrl.parse("http://[::1]:9001/"))).hasSize(1);
    }

    @Test
    void allowlistEntriesThatAreNotHostsAreRefusedInWords() {
        assertThatThrownBy(() -> WebhookOptions.parseHosts("hooks.example.com:99999"))
                .hasMessageContaining("--webhook-allow-hosts").hasMessageContaining("port");
        assertThatThrownBy(() -> WebhookOptions.parseHosts("http://hooks.example.com"))
                .hasMessageContaining("--webhook-allow-hosts");
    }

    @Test
    void retriesWaitTwiceAsLongEachTimeUpToTheCap() {
        var options = WebhookOptions.NONE.withRetries(java.time.Duration.ofHours(1), java.time.Duration.ofSeconds(1));
        assertThat(options.waitAfter(1)).hasSeconds(1);
        assertThat(options.waitAfter(2)).hasSeconds(2);
        assertThat(options.waitAfter(4)).hasSeconds(8);
        assertThat(options.waitAfter(40)).isEqualTo(WebhookOptions.MAX_WAIT);
    }
}
