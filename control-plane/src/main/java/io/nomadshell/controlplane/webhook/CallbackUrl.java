package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.HostPattern;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A job's callback URL, checked for form: http or https, a host, no user or password, no fragment.
 *
 * @param text the URL as given
 * @param https whether the POST goes over TLS
 * @param host the host, normalized ({@link HostPattern#normalize})
 * @param port the port, the scheme's default when the URL names none
 * @param target what the request line names: the path (at least {@code /}) and the query
 */
public record CallbackUrl(String text, boolean https, String host, int port, String target) {
    /** The most characters a callback URL may have. */
    static final int MAX_LENGTH = 2048;

    public CallbackUrl {
        requireNonNull(text, "text");
        requireNonNull(host, "host");
        requireNonNull(target, "target");
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException saying, in words, what is wrong with it
     */
    public static CallbackUrl parse(String text) {
        requireNonNull(text, "text");
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("callback_url is longer than " + MAX_LENGTH + " characters");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("callback_url '" + text + "' is not a URL: " + e.getReason());
        }
        var scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("callback_url must be an http:// or https:// URL, not '" + text + "'");
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("callback_url must not carry a user or password; the POST is signed instead");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("callback_url '" + text + "' names no host");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("callback_url must not have a fragment (#...)");
        }
        boolean https = scheme.equals("https");
        int port = uri.getPort() == -1 ? defaultPort(https) : uri.getPort();
        var path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        var target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        return new CallbackUrl(text, https, HostPattern.normalize(uri.getHost()), port, target);
    }

    /** The port a URL of this scheme has when it names none. */
    int defaultPort() {
        return defaultPort(https);
    }

    private static int defaultPort(boolean https) {
        return https ? 443 : 80;
    }

    /** What the Host header says. */
    String authority() {
        var name = host.contains(":") ? "[" + host + "]" : host;
        return port == defaultPort() ? name : name + ":" + port;
    }

    @Override
    public String toString() {
        return text;
    }
}
