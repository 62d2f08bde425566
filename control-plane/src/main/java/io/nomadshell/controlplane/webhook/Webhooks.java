package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** The door for callback URLs: what Schedule accepts, checked before the job exists. */
public final class Webhooks {
    private final WebhookOptions options;
    private final WebhookSecrets secrets;
    private final WebhookAddresses addresses;

    public Webhooks(WebhookOptions options, WebhookSecrets secrets, WebhookAddresses addresses) {
        this.options = requireNonNull(options, "options");
        this.secrets = requireNonNull(secrets, "secrets");
        this.addresses = requireNonNull(addresses, "addresses");
    }

    /**
     * The callback {@code owner} asked for, or null when {@code url} is empty.
     *
     * @throws JobException INVALID_ARGUMENT saying why it is refused: a malformed URL, a host (or port)
     *     not on the allowlist, a name that resolves to an address the allowlist does not name, an
     *     owner without a webhook secret, unknown {@code events}
     */
    public @Nullable Callback accept(String owner, String url, String events) {
        requireNonNull(owner, "owner");
        if (requireNonNull(url, "url").isEmpty()) {
            if (!requireNonNull(events, "events").isEmpty()) {
                throw refused("callback_events is set but callback_url is not");
            }
            return null;
        }
        boolean all = switch (requireNonNull(events, "events")) {
            case "", "terminal" -> false;
            case "all" -> true;
            default -> throw refused("callback_events must be 'terminal' (the default) or 'all', not '" + events + "'");
        };
        if (options.allowHosts().isEmpty()) {
            throw refused("webhooks are off on this server: its webhook allowlist (--webhook-allow-hosts) is empty");
        }
        CallbackUrl callback;
        try {
            callback = CallbackUrl.parse(url);
        } catch (IllegalArgumentException e) {
            throw refused(e.getMessage());
        }
        if (options.allowHosts().stream().noneMatch(h -> h.allows(callback.host(), callback.port(), callback.defaultPort()))) {
            throw refused("callback_url's host " + callback.authority() + " is not on the server's webhook allowlist (--webhook-allow-hosts: "
                    + options.allowHosts().stream().map(AllowedHost::toString).collect(Collectors.joining(", ")) + ")");
        }
        if (secrets.of(owner).isEmpty()) {
            throw refused("this API key has no webhook secret to sign deliveries with: ask the operator to add "
                    + "webhook_secret=... to its line in the API keys file");
        }
        try {
            addresses.resolve(callback);
        } catch (WebhookRefusedException e) {
            throw refused(e.getMessage());
        }
        return new Callback(callback, all);
    }

    private static JobException refused(String why) {
        return new JobException(Reason.INVALID_ARGUMENT, why);
    }
}
