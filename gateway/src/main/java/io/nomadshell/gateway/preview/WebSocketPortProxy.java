package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.websocket.WebSocket;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.websocket.WebSocketServiceHandler;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bridges a WebSocket from the browser to one opened to the sandbox port in its {@link PortTarget}:
 * frames from each side are handed to the other as they are (noVNC's websockify, Jupyter kernels).
 * The upstream handshake carries what {@link SandboxHeaders#credentials} lets through.
 */
final class WebSocketPortProxy implements WebSocketServiceHandler {
    private static final Logger log = LoggerFactory.getLogger(WebSocketPortProxy.class);
    private final BridgeClients clients;

    WebSocketPortProxy(BridgeClients clients) {
        this.clients = requireNonNull(clients, "clients");
    }

    @Override
    public WebSocket handle(ServiceRequestContext ctx, WebSocket in) {
        var target = requireNonNull(ctx.attr(PortTarget.KEY), "target (is PreviewAccess in front?)");
        var upstream = clients.webSocket(target.socket(), subprotocols(ctx),
                        SandboxHeaders.credentials(ctx.request().headers(), target).toBuilder()
                                .set(HttpHeaderNames.AUTHORITY, target.upstreamAuthority())
                                .build())
                .connect(target.pathAndQuery())
                .thenApply(session -> {
                    session.setOutbound(in);
                    return session.inbound();
                });
        upstream.exceptionally(cause -> {
            log.warn("WebSocket to port {} in the sandbox failed: {}", target.port(), cause.toString());
            in.abort(cause);
            return null;
        });
        return WebSocket.of(StreamMessage.of(upstream));
    }

    private static List<String> subprotocols(ServiceRequestContext ctx) {
        var requested = ctx.request().headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        return requested == null ? List.of()
                : Arrays.stream(requested.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList();
    }
}
