package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The operator's egress policy: the hosts any job may ask to reach ({@code --egress-allow}) and the
 * special address blocks (loopback, private, ...) sandboxes may reach anyway
 * ({@code --egress-allow-private}). A job reaches a host only if its own allowlist and this cap
 * both name it.
 *
 * @param cap the host patterns jobs may ask for; empty: no egress for anyone
 * @param specialAllowed the special address blocks that are allowed all the same; empty: none
 */
public record EgressPolicy(List<HostPattern> cap, List<AddressBlock> specialAllowed) {
    /** No egress for anyone: the default. */
    public static final EgressPolicy NONE = new EgressPolicy(List.of(), List.of());
    /** How many host patterns one job may ask for. */
    static final int MAX_PATTERNS = 100;

    public EgressPolicy {
        cap = List.copyOf(cap);
        specialAllowed = List.copyOf(specialAllowed);
    }

    /**
     * The policy the flags say: comma-separated host patterns and address blocks (blank: none).
     *
     * @throws IllegalArgumentException naming the flag and the entry it cannot read
     */
    public static EgressPolicy parse(String allow, String allowPrivate) {
        return new EgressPolicy(
                entries(allow, "--egress-allow", HostPattern::parse),
                entries(allowPrivate, "--egress-allow-private", AddressBlock::parse));
    }

    /**
     * What a job that asks for {@code asked} is granted: the patterns, normalized and without repeats.
     *
     * @throws IllegalArgumentException in words for the person who asked, naming the host and the flag
     */
    public List<String> grant(List<String> asked) {
        requireNonNull(asked, "asked");
        if (asked.size() > MAX_PATTERNS) {
            throw new IllegalArgumentException("egress.allow may name at most " + MAX_PATTERNS + " hosts, not " + asked.size());
        }
        var granted = new LinkedHashSet<String>();
        for (var text : asked) {
            HostPattern pattern;
            try {
                pattern = HostPattern.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("egress.allow: " + e.getMessage());
            }
            if (cap.isEmpty()) {
                throw new IllegalArgumentException("egress to " + pattern + " is not allowed: this server allows no egress "
                        + "(its --egress-allow is empty)");
            }
            if (cap.stream().noneMatch(pattern::within)) {
                throw new IllegalArgumentException("egress to " + pattern + " is outside this server's --egress-allow ("
                        + words(cap) + ")");
            }
            granted.add(pattern.text());
        }
        return List.copyOf(granted);
    }

    /**
     * Why a job granted {@code granted} may not reach {@code host}, in words for the person reading
     * the proxy's refusal; empty when both the job's list and the cap name it.
     */
    public Optional<String> refusal(String host, List<String> granted) {
        requireNonNull(host, "host");
        requireNonNull(granted, "granted");
        var shown = HostPattern.normalize(host);
        if (granted.isEmpty()) {
            return Optional.of("egress to " + shown + " is not allowed: this job may reach no host "
                    + "(schedule it with egress.allow)");
        }
        if (granted.stream().map(HostPattern::new).noneMatch(pattern -> pattern.matches(host))) {
            return Optional.of("egress to " + shown + " is not allowed for this job (allowed: "
                    + String.join(", ", granted) + ")");
        }
        if (cap.stream().noneMatch(pattern -> pattern.matches(host))) {
            // The operator narrowed the cap after the job was scheduled.
            return Optional.of("egress to " + shown + " is outside this server's --egress-allow");
        }
        return Optional.empty();
    }

    /** Whether the operator lets sandboxes reach {@code address} although it is special. */
    public boolean allowsSpecial(InetAddress address) {
        requireNonNull(address, "address");
        var plain = SpecialAddresses.unmapped(address);
        return specialAllowed.stream().anyMatch(block -> block.contains(address) || block.contains(plain));
    }

    private static <T> List<T> entries(String text, String flag, Function<String, T> parse) {
        requireNonNull(text, "text");
        var parsed = new ArrayList<T>();
        for (var entry : Arrays.stream(text.split(",")).map(String::strip).filter(e -> !e.isEmpty()).toList()) {
            try {
                parsed.add(parse.apply(entry));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(flag + ": " + e.getMessage());
            }
        }
        return parsed;
    }

    private static String words(List<?> items) {
        return items.stream().map(Object::toString).collect(Collectors.joining(", "));
    }
}
