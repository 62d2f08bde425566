package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A host an allowlist names: an exact name ({@code packages.example.com}), an IP literal, every
 * subdomain of a name ({@code *.example.org}: {@code a.example.org} and {@code a.b.example.org},
 * not {@code example.org} itself), or {@code *} (any host). Names compare case-insensitively,
 * without a trailing dot.
 *
 * @param text the pattern as written, normalized (lower case, no trailing dot)
 */
public record HostPattern(String text) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]+");

    public HostPattern {
        requireNonNull(text, "text");
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException when it is not a host name, an IP literal, {@code *.name} or {@code *}
     */
    public static HostPattern parse(String text) {
        var normalized = normalize(requireNonNull(text, "text"));
        if (normalized.equals("*") && text.strip().equals("*")) {
            return new HostPattern(normalized);
        }
        var name = normalized.startsWith("*.") ? normalized.substring(2) : normalized;
        if (name.length() > 253 || !(NAME.matcher(name).matches()
                || (!normalized.startsWith("*.") && name.contains(":") && IPV6.matcher(name).matches()))) {
            throw new IllegalArgumentException("'" + text + "' is not a host name, an IP address, *.name or *");
        }
        return new HostPattern(normalized);
    }

    /** {@code host} as patterns compare it: lower case, no brackets, no trailing dot. */
    public static String normalize(String host) {
        var h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    /** Whether {@code host} (any spelling {@link #normalize} accepts) is one this pattern names. */
    public boolean matches(String host) {
        var h = normalize(host);
        if (text.equals("*")) {
            return !h.isEmpty();
        }
        if (text.startsWith("*.")) {
            return h.endsWith(text.substring(1)) && h.length() > text.length() - 1;
        }
        return h.equals(text);
    }

    /** Whether every host this pattern names is named by {@code wider} too. */
    public boolean within(HostPattern wider) {
        requireNonNull(wider, "wider");
        if (wider.text.equals("*")) {
            return true;
        }
        if (text.equals("*")) {
            return false;
        }
        if (text.startsWith("*.")) {
            // *.a.example.org is within *.example.org and within *.a.example.org, never within a name.
            return wider.text.startsWith("*.") && (text.equals(wider.text) || wider.matches(text.substring(2)));
        }
        return wider.matches(text);
    }

    @Override
    public String toString() {
        return text;
    }
}
