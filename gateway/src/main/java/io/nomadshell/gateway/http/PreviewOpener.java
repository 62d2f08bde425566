package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.preview.PreviewLinks;
import java.time.Duration;
import java.util.Map;

/**
 * Opens a preview for a job's owner: checks the job is theirs, starts the desktop or Jupyter in the
 * sandbox when that is what they want, and makes the link to the page on its preview origin. Blocks
 * (Redis, and up to a minute and a half for a service's first start): call it off the event loop.
 */
final class PreviewOpener {
    /** The page each service opens on: noVNC connecting to its own websockify, Jupyter's root. */
    private static final Map<String, String> SERVICE_PAGES = Map.of(
            "desktop", "/vnc.html?autoconnect=true&resize=remote&path=websockify",
            "jupyter", "/");

    private final JobManager jobs;
    private final JobTunnels tunnels;
    private final PreviewLinks links;

    PreviewOpener(JobManager jobs, JobTunnels tunnels, PreviewLinks links) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.tunnels = requireNonNull(tunnels, "tunnels");
        this.links = requireNonNull(links, "links");
    }

    /** What to open: a page on a port, or a service's page. */
    sealed interface Wanted {
        record Port(int port, String pathAndQuery) implements Wanted {}

        record Service(String name) implements Wanted {}
    }

    /**
     * A link to what {@code owner} wants of {@code jobId}, valid for {@code lifetime}.
     *
     * @throws JobException NOT_FOUND for someone else's job, INVALID_ARGUMENT for an unknown service,
     *     UNAVAILABLE when the sandbox is not here or the service cannot start
     */
    PreviewLinks.Link open(String owner, String jobId, Wanted wanted, Duration lifetime) throws InterruptedException {
        jobs.get(owner, jobId);
        return switch (wanted) {
            case Wanted.Port port -> {
                // Refuses now, not on the preview, when the job's sandbox is not attached here.
                tunnels.bridge(jobId, port.port());
                yield links.issue(jobId, port.port(), owner, port.pathAndQuery(), lifetime);
            }
            case Wanted.Service service -> {
                var page = SERVICE_PAGES.get(service.name());
                if (page == null) {
                    throw new JobException(Reason.INVALID_ARGUMENT,
                            "unknown service '" + service.name() + "'; the services are desktop and jupyter");
                }
                yield links.issue(jobId, tunnels.ensureService(jobId, service.name()), owner, page, lifetime);
            }
        };
    }
}
