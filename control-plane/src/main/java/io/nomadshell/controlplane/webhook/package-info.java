/**
 * Webhooks: a job's callback URL checked against the operator's allowlist at Schedule, and the POSTs
 * of the job when its status changes, signed with the owner's webhook secret, queued in Redis and
 * retried with backoff for a bounded time by whichever replica claims them.
 */
@NullMarked
package io.nomadshell.controlplane.webhook;

import org.jspecify.annotations.NullMarked;
