package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.preview.PreviewOptions;
import java.net.InetAddress;
import org.jspecify.annotations.Nullable;

/**
 * How the gateway listens.
 *
 * @param port the one TCP port for gRPC and REST (0 picks a free one)
 * @param apiKeys with none, the server listens on loopback only
 * @param preview where sandbox ports are served, each on an origin of its own
 * @param metricsPublic whether {@code /metrics} answers without an API key (for a Prometheus scraper)
 * @param listenAddress the one address the API and the previews listen on; null for every address (with
 *     API keys; without them the server listens on loopback only, whatever this says)
 */
public record GatewayOptions(int port, ApiKeys apiKeys, PreviewOptions preview, boolean metricsPublic,
        @Nullable InetAddress listenAddress) {
    public static final int DEFAULT_PORT = 8080;

    /** With {@code /metrics} behind the API keys, on every address. */
    public GatewayOptions(int port, ApiKeys apiKeys, PreviewOptions preview) {
        this(port, apiKeys, preview, false, null);
    }

    /** Where the API and the previews listen: loopback without API keys, else the listen address (null: every one). */
    public @Nullable InetAddress bindAddress() {
        return apiKeys.enabled() ? listenAddress : InetAddress.getLoopbackAddress();
    }

    public GatewayOptions {
        requireNonNull(apiKeys, "apiKeys");
        requireNonNull(preview, "preview");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
        }
    }
}
