package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A git repository a job's workspace starts from, checked before anything is fetched: only
 * {@code https://} and {@code http://} URLs with a host and without user, password, query or
 * fragment; a ref that is a branch or tag name git would accept, or a full commit id, never
 * something git could read as an option. Everything else is refused in words (INVALID_ARGUMENT).
 *
 * @param url the URL as given (it ends up as the workspace's remote "origin")
 * @param host the URL's host, lower case, without brackets for IPv6
 * @param port the URL's port, or the scheme's default
 * @param ref the branch, tag or commit; empty for the remote's default branch
 * @param credential for a private repository; null to use the operator's for the host, if any
 */
public record GitSource(String url, String host, int port, String ref, @Nullable BasicCredential credential)
        implements SeedSource {
    private static final int MAX_URL = 2048;
    private static final int MAX_REF = 255;
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHORT_COMMIT = Pattern.compile("[0-9a-fA-F]{7,39}");
    /** What git's check-ref-format refuses in a ref name, plus what a shell or a transport would read. */
    private static final Pattern BAD_REF = Pattern.compile(
            "[\\x00-\\x20\\x7f~^:?*\\[\\\\]|\\.\\.|@\\{|//|^/|/$|\\.$|\\.lock$|\\.lock/|/\\.|^\\.|^@$");

    public GitSource {
        requireNonNull(url, "url");
        requireNonNull(host, "host");
        requireNonNull(ref, "ref");
    }

    /**
     * The source a request asks for, checked.
     *
     * @throws JobException INVALID_ARGUMENT saying what is wrong with the URL, the ref or the credential
     */
    public static GitSource of(String url, String ref, @Nullable BasicCredential credential) {
        requireNonNull(url, "url");
        requireNonNull(ref, "ref");
        var uri = checkedUrl(url.strip());
        var scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        var host = uri.getHost().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new GitSource(url.strip(), host, port, checkedRef(ref.strip()), credential);
    }

    /** Whether the ref names a commit by its id rather than a branch or tag. */
    public boolean refIsCommit() {
        return COMMIT.matcher(ref).matches();
    }

    /** Whether the ref could be a shortened commit id (which cannot be fetched by itself). */
    public boolean refMayBeShortCommit() {
        return SHORT_COMMIT.matcher(ref).matches();
    }

    private static URI checkedUrl(String url) {
        if (url.isEmpty()) {
            throw refused("the git URL is empty: give an https:// URL of the repository");
        }
        if (url.length() > MAX_URL) {
            throw refused("the git URL is longer than " + MAX_URL + " characters");
        }
        if (url.startsWith("-")) {
            throw refused("the git URL '" + url + "' starts with '-': it is not a URL");
        }
        if (url.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            throw refused("the git URL may not hold spaces or control characters");
        }
        var lower = url.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("https://") && !lower.startsWith("http://")) {
            var scheme = lower.matches("^[a-z][a-z0-9+.-]*://.*") ? lower.substring(0, lower.indexOf("://"))
                    : lower.contains("::") ? lower.substring(0, lower.indexOf("::")) + "::"
                    : lower.matches("^[^/]+@[^/]+:.*") ? "ssh (user@host:path)" : null;
            throw refused(scheme == null
                    ? "'" + url + "' is not a repository URL this server fetches: give an https:// (or http://) URL"
                            + " (local paths are refused)"
                    : "git URLs of the kind " + scheme + " are refused: only https:// and http:// repositories are fetched");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw refused("the git URL '" + url + "' cannot be read: " + e.getReason());
        }
        if (uri.getRawUserInfo() != null || (uri.getHost() == null && uri.getRawAuthority() != null
                && uri.getRawAuthority().contains("@"))) {
            throw refused("the git URL may not hold a user or password: give them as seed.git.credential, "
                    + "which is never stored");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw refused("the git URL '" + url + "' has no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw refused("the git URL may not have a query (?...) or fragment (#...)");
        }
        return uri;
    }

    private static String checkedRef(String ref) {
        if (ref.isEmpty() || COMMIT.matcher(ref).matches()) {
            return ref;
        }
        if (ref.length() > MAX_REF) {
            throw refused("the git ref is longer than " + MAX_REF + " characters");
        }
        if (ref.startsWith("-")) {
            throw refused("the git ref '" + ref + "' starts with '-': give a branch, a tag or a commit id");
        }
        if (BAD_REF.matcher(ref).find()) {
            throw refused("'" + ref + "' is not a branch or tag name git accepts");
        }
        if (ref.startsWith("refs/") && !ref.startsWith("refs/heads/") && !ref.startsWith("refs/tags/")) {
            throw refused("the git ref '" + ref + "' is neither refs/heads/... nor refs/tags/...: give a branch, "
                    + "a tag or a commit id");
        }
        return ref;
    }

    private static JobException refused(String message) {
        return new JobException(Reason.INVALID_ARGUMENT, message);
    }

    @Override
    public String toString() {
        return "GitSource[" + url + (ref.isEmpty() ? "" : " at " + ref) + (credential == null ? "" : ", with a credential")
                + "]";
    }
}
