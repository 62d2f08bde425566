package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.Route;
import com.linecorp.armeria.server.ServerBuilder;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.preview.PreviewLinks;

/**
 * The routes for watching a job live, in one place: its events (SSE), its screenshots, links to its
 * sandbox's ports on their preview origins (and redirects there from the old addresses of ports,
 * the desktop and Jupyter), and the web UI. The API serves no sandbox content itself.
 */
public final class LiveRoutes {
    /** Java names regex groups without underscores: {@code jobid} in these routes. */
    private static final String JOB = "/v1/jobs/(?<jobid>[A-Za-z0-9_-]{1,64})";

    private final EventStreamService events;

    private LiveRoutes(EventStreamService events) {
        this.events = events;
    }

    /** Adds the routes to {@code server}; links lead to previews that {@code links} makes. */
    public static LiveRoutes install(ServerBuilder server, JobManager jobs, JobTunnels tunnels, PreviewLinks links) {
        requireNonNull(server, "server");
        var opener = new PreviewOpener(jobs, tunnels, links);
        var events = new EventStreamService(jobs);
        server.service("/v1/jobs/{job_id}/events", events)
                .service(Route.builder().path("/v1/jobs/{job_id}/links").methods(HttpMethod.POST).build(),
                        new LinkService(opener))
                .service("/v1/jobs/{jobid}/desktop", new PreviewRedirect(opener, HttpStatus.FOUND,
                        ctx -> new PreviewOpener.Wanted.Service("desktop")))
                .service("/v1/jobs/{jobid}/jupyter", new PreviewRedirect(opener, HttpStatus.FOUND,
                        ctx -> new PreviewOpener.Wanted.Service("jupyter")))
                .service("/v1/jobs/{job_id}/screenshots/{call_id}", new ScreenshotService(jobs))
                .service(Route.builder().regex(JOB + "/ports/(?<port>[0-9]{1,5})(?<rest>/.*)?$").build(),
                        new PreviewRedirect(opener, HttpStatus.TEMPORARY_REDIRECT, ctx -> {
                            int port = PortNumbers.parse(ctx.pathParam("port"));
                            var rest = ctx.pathParam("rest");
                            var query = ctx.query();
                            return port == 0 ? null : new PreviewOpener.Wanted.Port(port,
                                    (rest == null || rest.isEmpty() ? "/" : rest) + (query == null ? "" : "?" + query));
                        }));
        WebUi.install(server);
        return new LiveRoutes(events);
    }

    /** Clients following job events over SSE right now. */
    public int eventWatchers() {
        return events.watchers();
    }
}
