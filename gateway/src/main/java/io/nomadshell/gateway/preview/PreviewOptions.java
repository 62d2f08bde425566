package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where previews are served.
 *
 * @param port the preview listener's TCP port (0 picks a free one)
 * @param domain previews are {@code p<port>-<job id>.<domain>}; browsers resolve {@code *.localhost}
 *     to loopback on their own, another domain needs a wildcard DNS record pointing at the gateway
 */
public record PreviewOptions(int port, String domain) {
    public static final int DEFAULT_PORT = 8081;
    public static final String DEFAULT_DOMAIN = "localhost";
    private static final Pattern DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

    public PreviewOptions {
        requireNonNull(domain, "domain");
        domain = domain.strip().toLowerCase(Locale.ROOT);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("the preview port must be between 0 and 65535, not " + port);
        }
        if (!DOMAIN.matcher(domain).matches() || domain.length() > 200) {
            throw new IllegalArgumentException("the preview domain must be a host name such as localhost or "
                    + "preview.example.com, not '" + domain + "'");
        }
    }

    /** The defaults: port {@value #DEFAULT_PORT} under {@value #DEFAULT_DOMAIN}. */
    public static PreviewOptions defaults() {
        return new PreviewOptions(DEFAULT_PORT, DEFAULT_DOMAIN);
    }
}
