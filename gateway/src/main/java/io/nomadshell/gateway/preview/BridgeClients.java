package io.nomadshell.gateway.preview;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.websocket.WebSocketClient;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.util.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * HTTP/1.1 and WebSocket clients that talk to a sandbox port through its tunnel bridge. They have
 * their own client factory: a WebSocket client sharing connections with other clients can be handed
 * an HTTP/2 connection and fail the upgrade.
 */
final class BridgeClients implements AutoCloseable {
    private final ClientFactory factory = ClientFactory.builder()
            .useHttp2Preface(false)
            .idleTimeout(Duration.ofSeconds(30))
            .build();

    WebClient web(Path socket) {
        return WebClient.builder(SessionProtocol.H1C, DomainSocketAddress.of(socket).asEndpoint())
                .factory(factory)
                .responseTimeout(Duration.ZERO)
                .maxResponseLength(0)
                .build();
    }

    WebSocketClient webSocket(Path socket, List<String> subprotocols, HttpHeaders headers) {
        return WebSocketClient.builder(SessionProtocol.H1C, DomainSocketAddress.of(socket).asEndpoint())
                .factory(factory)
                .subprotocols(subprotocols)
                .autoFillOriginHeader(false)
                .addHeaders(headers)
                .build();
    }

    @Override
    public void close() {
        factory.close();
    }
}
