package io.nomadshell.controlplane.webhook;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * A job's accepted callback: where its deliveries go and which status changes it hears of.
 *
 * @param allChanges every status change, not only the end
 */
public record Callback(CallbackUrl url, boolean allChanges) {
    public Callback {
        requireNonNull(url, "url");
    }

    /** The job hash's fields that hold it; transition.lua reads them to queue a delivery. */
    public Map<String, String> fields() {
        return Map.of("callback_url", url.text(), "callback_events", allChanges ? "all" : "terminal");
    }
}
