package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.Route;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServerListener;
import com.linecorp.armeria.server.websocket.WebSocketService;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.controlplane.tunnel.JupyterPath;
import io.nomadshell.gateway.auth.LinkTokens;
import java.time.Clock;
import java.time.Duration;

/**
 * The routes for watching a job live, in one place: its events (SSE), signed links for browsers,
 * its screenshots, its sandbox ports (HTTP and WebSocket), desktop and Jupyter through tunnels, and the
 * web UI.
 */
public final class LiveRoutes {
    /** Jupyter Server inside the sandbox, started on demand; it runs with base_url {@link JupyterPath}. */
    static final int JUPYTER_PORT = 8888;
    private static final String JOB = "/v1/jobs/(?<jobid>[A-Za-z0-9_-]{1,64})";

    private final EventStreamService events;

    private LiveRoutes(EventStreamService events) {
        this.events = events;
    }

    /** Adds the routes to {@code server}; what they hold open is closed when it stops. */
    public static LiveRoutes install(ServerBuilder server, JobManager jobs, JobTunnels tunnels) {
        requireNonNull(server, "server");
        var links = new LinkTokens(Clock.systemUTC());
        var access = new JobAccess(links);
        var clients = new BridgeClients();
        var events = new EventStreamService(jobs, access);
        var proxy = WebSocketService.builder(new WebSocketPortProxy(clients))
                .fallbackService(new HttpPortProxy(clients))
                .subprotocols("binary", "base64", "v1.kernel.websocket.jupyter.org")
                // A desktop or a kernel session may stay open all day.
                .streamTimeout(Duration.ofHours(24))
                .build();
        server.service("/v1/jobs/{job_id}/events", events)
                .service("/v1/jobs/{job_id}/links", new LinkService(jobs, links, Clock.systemUTC()))
                .service("/v1/jobs/{job_id}/desktop", new DesktopService(jobs, tunnels, access))
                .service("/v1/jobs/{job_id}/screenshots/{call_id}", new ScreenshotService(jobs, access))
                .service(Route.builder().regex(JOB + "/ports/(?<port>[0-9]{1,5})(?<rest>/.*)?$").build(),
                        proxy.decorate(new PortAccess(jobs, tunnels, access, ctx -> new PortAccess.Upstream(
                                port(ctx.pathParam("port")), rest(ctx.pathParam("rest"))))))
                .service(Route.builder().regex(JOB + "/jupyter(?<rest>/.*)?$").build(),
                        proxy.decorate(new PortAccess(jobs, tunnels, access, ctx -> new PortAccess.Upstream(
                                JUPYTER_PORT, jupyterPath(ctx.pathParam("jobid"), ctx.pathParam("rest")), "jupyter"))))
                .serverListener(ServerListener.builder().whenStopped(stopped -> clients.close()).build());
        WebUi.install(server);
        return new LiveRoutes(events);
    }

    /** Clients following job events over SSE right now. */
    public int eventWatchers() {
        return events.watchers();
    }

    private static int port(String given) {
        int port = Integer.parseInt(requireNonNull(given, "port"));
        if (port < 1 || port > 65535) {
            throw new NumberFormatException("out of range");
        }
        return port;
    }

    /** The full path, as Jupyter serves under its base_url; a bare {@code /jupyter} is its root. */
    private static String jupyterPath(String jobId, String rest) {
        return JupyterPath.of(requireNonNull(jobId, "jobid")) + rest(rest).substring(1);
    }

    private static String rest(String given) {
        return given == null || given.isEmpty() ? "/" : given;
    }
}
