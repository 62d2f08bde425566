package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.gateway.auth.ApiKeys;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** --listen-address: an IP address, never a name to resolve, and off loopback only behind API keys. */
class ServerSettingsTest {
    private static final ApiKeys KEYS = ApiKeys.of(Set.of("k1"));

    @Test
    void aNameIsRefusedInWordsAndNotResolved() {
        var settings = new ServerSettings();
        settings.listenAddress = "node-1.example";

        assertThatThrownBy(() -> settings.listenAddress(KEYS))
                .isInstanceOf(UserError.class)
                .hasMessage("--listen-address must be an IP address such as 10.0.0.5 or 127.0.0.1, not 'node-1.example'");
    }

    @Test
    void anAddressOffLoopbackNeedsApiKeys() {
        var settings = new ServerSettings();
        settings.listenAddress = "10.0.0.5";

        assertThatThrownBy(() -> settings.listenAddress(ApiKeys.none()))
                .isInstanceOf(UserError.class)
                .hasMessage("--listen-address 10.0.0.5 needs API keys (--api-keys, NOMAD_SHELL_API_KEYS): "
                        + "without them the server listens on loopback only");
        assertThat(settings.listenAddress(KEYS).getHostAddress()).isEqualTo("10.0.0.5");
    }

    @Test
    void loopbackNeedsNoKeysAndNoneMeansTheDefault() {
        var settings = new ServerSettings();
        settings.listenAddress = " 127.0.0.1 ";
        assertThat(settings.listenAddress(ApiKeys.none()).isLoopbackAddress()).isTrue();
        settings.listenAddress = "::1";
        assertThat(settings.listenAddress(ApiKeys.none()).isLoopbackAddress()).isTrue();
        settings.listenAddress = "";
        assertThat(settings.listenAddress(KEYS)).isNull();
    }
}
