package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.SpecialAddresses;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Resolves a callback's host to the addresses a delivery may connect to: ordinary public addresses,
 * and a loopback, private or otherwise special one only when an allowlist entry for that URL names
 * that very address. Each attempt resolves again and connects to an address checked here, so a name
 * that was public at Schedule and points inward later (DNS rebinding) reaches nothing inside.
 */
public final class WebhookAddresses {
    private final List<AllowedHost> allowHosts;
    private final Resolver resolver;

    /** How names become addresses; the system's resolver outside tests. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    public WebhookAddresses(List<AllowedHost> allowHosts) {
        this(allowHosts, InetAddress::getAllByName);
    }

    public WebhookAddresses(List<AllowedHost> allowHosts, Resolver resolver) {
        this.allowHosts = List.copyOf(requireNonNull(allowHosts, "allowHosts"));
        this.resolver = requireNonNull(resolver, "resolver");
    }

    /**
     * The addresses of {@code url}'s host a delivery may connect to, at least one.
     *
     * @throws WebhookRefusedException when the name does not resolve, or only to addresses not allowed
     */
    public List<InetAddress> resolve(CallbackUrl url) throws WebhookRefusedException {
        requireNonNull(url, "url");
        var entries = allowHosts.stream().filter(h -> h.allows(url.host(), url.port(), url.defaultPort())).toList();
        if (entries.isEmpty()) {
            throw new WebhookRefusedException(url.authority() + " is not on the webhook allowlist (--webhook-allow-hosts)");
        }
        InetAddress[] resolved;
        try {
            resolved = resolver.resolve(url.host());
        } catch (UnknownHostException e) {
            throw new WebhookRefusedException("callback_url's host " + url.host() + " does not resolve");
        }
        var usable = Arrays.stream(resolved)
                .filter(address -> SpecialAddresses.kindOf(address).isEmpty() || entries.stream()
                        .anyMatch(entry -> entry.literal().map(SpecialAddresses.unmapped(address)::equals).orElse(false)))
                .toList();
        if (usable.isEmpty()) {
            var first = resolved[0];
            throw new WebhookRefusedException("callback_url's host " + url.host() + " resolves to "
                    + SpecialAddresses.kindOf(first).orElseThrow() + " (" + first.getHostAddress() + "), which webhooks "
                    + "reach only when --webhook-allow-hosts names that address itself");
        }
        return usable;
    }
}
