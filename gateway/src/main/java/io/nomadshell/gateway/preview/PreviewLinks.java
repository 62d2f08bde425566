package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import io.nomadshell.gateway.auth.LinkTokens;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Makes the links that open a preview: the URL of a page on the preview origin of one job's port,
 * carrying a signed link in {@value #PARAM}, which the preview listener turns into a cookie of that
 * host and then drops from the address. Whoever calls this has checked that the caller owns the job.
 */
public final class PreviewLinks {
    /** The query parameter that carries a link to the preview listener, once. */
    public static final String PARAM = "nomad_shell_link";

    private final LinkTokens tokens;
    private final PreviewHosts hosts;
    private final Clock clock;

    PreviewLinks(LinkTokens tokens, PreviewHosts hosts, Clock clock) {
        this.tokens = requireNonNull(tokens, "tokens");
        this.hosts = requireNonNull(hosts, "hosts");
        this.clock = requireNonNull(clock, "clock");
    }

    /** A link to open. */
    public record Link(String url, String origin, int port, Instant expiresAt) {}

    /**
     * A link that opens {@code pathAndQuery} on {@code port} of {@code jobId} for {@code owner}, for
     * {@code lifetime}.
     */
    public Link issue(String jobId, int port, String owner, String pathAndQuery, Duration lifetime) {
        requireNonNull(pathAndQuery, "pathAndQuery");
        if (!pathAndQuery.startsWith("/")) {
            throw new IllegalArgumentException("the path must start with '/': " + pathAndQuery);
        }
        var expiry = clock.instant().plus(lifetime);
        var token = tokens.issue(jobId, port, owner, expiry);
        var origin = hosts.origin(jobId, port);
        var separator = pathAndQuery.contains("?") ? "&" : "?";
        return new Link(origin + pathAndQuery + separator + PARAM + "=" + URLEncoder.encode(token, StandardCharsets.UTF_8),
                origin, port, expiry);
    }
}
