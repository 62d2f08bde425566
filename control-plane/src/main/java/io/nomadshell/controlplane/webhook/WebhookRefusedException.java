package io.nomadshell.controlplane.webhook;

/** A callback that may not be reached, or could not be; the message says why, in words. */
public final class WebhookRefusedException extends Exception {
    public WebhookRefusedException(String message) {
        super(message, null, false, false);
    }
}
