package io.nomadshell.controlplane.webhook;

import java.util.Optional;

/**
 * Each owner's webhook secret, the key its deliveries are signed with (from the API keys file). Asked
 * at each attempt, so a secret rotated in the keys file signs the deliveries still pending.
 */
@FunctionalInterface
public interface WebhookSecrets {
    /** No owner has a secret: every callback_url is refused. */
    WebhookSecrets NONE = owner -> Optional.empty();

    Optional<byte[]> of(String owner);
}
