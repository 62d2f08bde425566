package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.metric.NoopMeterRegistry;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerPort;
import com.linecorp.armeria.server.websocket.WebSocketService;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.auth.LinkTokens;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The preview listener: a server of its own on its own port, so nothing of the API (routes, keys,
 * cookies, decorators) is ever served on a preview origin. Every request goes through
 * {@link PreviewAccess} to the port its {@code Host} names, over HTTP or WebSocket.
 */
public final class PreviewServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PreviewServer.class);
    private final Server server;
    private final BridgeClients clients;
    private final PreviewLinks links;

    private PreviewServer(Server server, BridgeClients clients, PreviewLinks links) {
        this.server = server;
        this.clients = clients;
        this.links = links;
    }

    /**
     * Starts listening on {@code options.port()} at {@code address} (null: every address; loopback: both
     * 127.0.0.1 and ::1, as the API listens without keys), signing links with {@code linkKey} (the deployment's, so that they open
     * on every replica).
     */
    public static PreviewServer start(JobManager jobs, JobTunnels tunnels, PreviewOptions options,
            @Nullable InetAddress address, byte[] linkKey) {
        requireNonNull(jobs, "jobs");
        requireNonNull(tunnels, "tunnels");
        requireNonNull(options, "options");
        var clock = Clock.systemUTC();
        var tokens = new LinkTokens(linkKey, clock);
        var clients = new BridgeClients();
        var builder = Server.builder();
        if (address == null) {
            builder.http(options.port());
        } else if (address.isLoopbackAddress()) {
            // 127.0.0.1 and ::1 on one port: browsers may try either for *.localhost.
            builder.localPort(options.port(), SessionProtocol.HTTP);
        } else {
            builder.port(new ServerPort(new InetSocketAddress(address, options.port()), SessionProtocol.HTTP));
        }
        // Read once requests arrive, when the server (on port 0, a free one) knows its port.
        var started = new AtomicReference<Server>();
        var hosts = new PreviewHosts(options.domain(), () -> started.get().activeLocalPort());
        var proxy = WebSocketService.builder(new WebSocketPortProxy(clients))
                .fallbackService(new HttpPortProxy(clients))
                .subprotocols("binary", "base64", "v1.kernel.websocket.jupyter.org")
                // A desktop or a kernel session may stay open all day.
                .streamTimeout(Duration.ofHours(24))
                .build();
        var server = builder
                .serviceUnder("/", proxy.decorate(new PreviewAccess(jobs, tunnels, tokens, hosts, clock)))
                .gracefulShutdownTimeout(Duration.ofSeconds(1), Duration.ofSeconds(5))
                // Nothing scrapes this listener's metrics (/metrics is the API's). Left on the global
                // registry, where the attach server already bound Armeria's shared blocking executor,
                // binding it again is refused with a warning at every start.
                .meterRegistry(NoopMeterRegistry.get())
                .build();
        started.set(server);
        try {
            server.start().join();
        } catch (RuntimeException e) {
            clients.close();
            throw e;
        }
        log.info("Sandbox previews on port {}, at http://p<port>-<job id>.{}:{}/", server.activeLocalPort(),
                options.domain(), server.activeLocalPort());
        return new PreviewServer(server, clients, new PreviewLinks(tokens, hosts, clock));
    }

    /** Where links to previews on this listener come from. */
    public PreviewLinks links() {
        return links;
    }

    /** The TCP port previews are served on. */
    public int port() {
        return server.activeLocalPort();
    }

    @Override
    public void close() {
        try {
            server.stop().join();
        } finally {
            clients.close();
        }
    }
}
