package io.nomadshell.gateway.server;

import static java.util.Objects.requireNonNull;

import io.nomadshell.gateway.auth.ApiKeys;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * How the gateway listens.
 *
 * @param port the one TCP port for gRPC and REST (0 picks a free one)
 * @param apiKeys with none, the server listens on loopback only
 * @param attachSocket a Unix socket where local sandboxes' daemons attach; null for none
 * @param metricsPublic whether {@code /metrics} answers without an API key (for a Prometheus scraper)
 */
public record GatewayOptions(int port, ApiKeys apiKeys, @Nullable Path attachSocket, boolean metricsPublic) {
    public static final int DEFAULT_PORT = 8080;

    /** With {@code /metrics} behind the API keys. */
    public GatewayOptions(int port, ApiKeys apiKeys, @Nullable Path attachSocket) {
        this(port, apiKeys, attachSocket, false);
    }

    public GatewayOptions {
        requireNonNull(apiKeys, "apiKeys");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
        }
    }
}
