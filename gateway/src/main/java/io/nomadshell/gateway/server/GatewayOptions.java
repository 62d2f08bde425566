package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.preview.PreviewOptions;

/**
 * How the gateway listens.
 *
 * @param port the one TCP port for gRPC and REST (0 picks a free one)
 * @param apiKeys with none, the server listens on loopback only
 * @param preview where sandbox ports are served, each on an origin of its own
 * @param metricsPublic whether {@code /metrics} answers without an API key (for a Prometheus scraper)
 */
public record GatewayOptions(int port, ApiKeys apiKeys, PreviewOptions preview, boolean metricsPublic) {
    public static final int DEFAULT_PORT = 8080;

    /** With {@code /metrics} behind the API keys. */
    public GatewayOptions(int port, ApiKeys apiKeys, PreviewOptions preview) {
        this(port, apiKeys, preview, false);
    }

    public GatewayOptions {
        requireNonNull(apiKeys, "apiKeys");
        requireNonNull(preview, "preview");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
        }
    }
}
