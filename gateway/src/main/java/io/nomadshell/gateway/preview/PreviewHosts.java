package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobIds;
import java.util.Locale;
import java.util.Optional;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The preview host names, {@code p<port>-<job id>.<domain>}: one origin per job and port, so a page
 * of one can read nothing of another, nor of the API. Parses a request's authority and builds origins.
 */
public final class PreviewHosts {
    private static final Pattern LABEL = Pattern.compile("p([0-9]{1,5})-([a-z0-9]+)");

    private final String domain;
    private final IntSupplier listenerPort;

    /** {@code listenerPort} is read when used: a listener on port 0 knows its port once it runs. */
    PreviewHosts(String domain, IntSupplier listenerPort) {
        this.domain = requireNonNull(domain, "domain");
        this.listenerPort = requireNonNull(listenerPort, "listenerPort");
    }

    /** A job's sandbox port, as a preview host names it. */
    public record Target(String jobId, int port) {}

    /**
     * The job and port an authority ({@code Host}) names, if it is a preview host of this listener:
     * the host under the preview domain, and no port or the listener's own.
     */
    Optional<Target> parse(@Nullable String authority) {
        if (authority == null) {
            return Optional.empty();
        }
        var lower = authority.toLowerCase(Locale.ROOT);
        int colon = lower.lastIndexOf(':');
        var host = colon < 0 ? lower : lower.substring(0, colon);
        if (colon >= 0 && !lower.substring(colon + 1).equals(Integer.toString(listenerPort.getAsInt()))) {
            return Optional.empty();
        }
        var suffix = "." + domain;
        if (!host.endsWith(suffix)) {
            return Optional.empty();
        }
        var label = LABEL.matcher(host.substring(0, host.length() - suffix.length()));
        if (!label.matches() || !JobIds.isWellFormed(label.group(2))) {
            return Optional.empty();
        }
        int port = Integer.parseInt(label.group(1));
        return port >= 1 && port <= 65535 ? Optional.of(new Target(label.group(2), port)) : Optional.empty();
    }

    /** {@code http://p<port>-<job id>.<domain>:<listener port>}. */
    public String origin(String jobId, int port) {
        return "http://p" + port + "-" + requireNonNull(jobId, "jobId") + "." + domain + ":" + listenerPort.getAsInt();
    }
}
