package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Where webhooks may go and how hard the server tries.
 *
 * @param allowHosts the hosts (and ports) a callback_url may name; none refuses every callback_url
 * @param retryFor how long after a status change its delivery is tried again; then it is given up
 * @param firstRetry the wait before the second attempt; each later wait doubles, up to {@link #MAX_WAIT}
 * @param connectTimeout how long an attempt may take to connect
 * @param readTimeout how long an attempt waits for the receiver's answer
 */
public record WebhookOptions(List<AllowedHost> allowHosts, Duration retryFor, Duration firstRetry,
        Duration connectTimeout, Duration readTimeout) {
    /** The longest wait between two attempts. */
    static final Duration MAX_WAIT = Duration.ofMinutes(10);
    public static final Duration DEFAULT_RETRY_FOR = Duration.ofHours(1);
    public static final Duration DEFAULT_FIRST_RETRY = Duration.ofSeconds(10);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** No host allowed: webhooks are off. */
    public static final WebhookOptions NONE = new WebhookOptions(List.of(), DEFAULT_RETRY_FOR, DEFAULT_FIRST_RETRY,
            DEFAULT_TIMEOUT, DEFAULT_TIMEOUT);

    public WebhookOptions {
        allowHosts = List.copyOf(requireNonNull(allowHosts, "allowHosts"));
        for (var duration : List.of(requireNonNull(retryFor, "retryFor"), requireNonNull(firstRetry, "firstRetry"),
                requireNonNull(connectTimeout, "connectTimeout"), requireNonNull(readTimeout, "readTimeout"))) {
            if (!duration.isPositive()) {
                throw new IllegalArgumentException("webhook durations must be positive, not " + duration);
            }
        }
    }

    /**
     * The allowlist from {@code --webhook-allow-hosts}: entries separated by commas or spaces.
     *
     * @throws IllegalArgumentException naming the entry that is no host[:port]
     */
    public static List<AllowedHost> parseHosts(String text) {
        return Arrays.stream(requireNonNull(text, "text").split("[,\\s]+"))
                .filter(entry -> !entry.isBlank())
                .map(entry -> {
                    try {
                        return AllowedHost.parse(entry);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--webhook-allow-hosts: " + e.getMessage()
                                + " (write host, host:port, *.domain or an IP address)");
                    }
                })
                .toList();
    }

    public WebhookOptions withAllowHosts(List<AllowedHost> hosts) {
        return new WebhookOptions(hosts, retryFor, firstRetry, connectTimeout, readTimeout);
    }

    public WebhookOptions withRetries(Duration retryFor, Duration firstRetry) {
        return new WebhookOptions(allowHosts, retryFor, firstRetry, connectTimeout, readTimeout);
    }

    /** The wait after failed attempt {@code attempt} (1 for the first): {@link #firstRetry} doubled each time. */
    Duration waitAfter(int attempt) {
        var wait = firstRetry;
        for (int i = 1; i < attempt && wait.compareTo(MAX_WAIT) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait;
    }
}
