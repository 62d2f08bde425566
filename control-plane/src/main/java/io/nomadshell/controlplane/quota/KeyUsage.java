package io.nomadshell.controlplane.quota;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * What an API key has in use now, beside its limits.
 *
 * @param quota the key's limits (and its name)
 * @param running its jobs starting or running
 * @param queued its jobs waiting to start
 * @param tokensToday model tokens its jobs used this UTC day
 * @param usdToday what that model use cost, in US dollars
 * @param dayEnds when the daily counts start again (the next UTC midnight)
 */
public record KeyUsage(KeyQuota quota, long running, long queued, long tokensToday, double usdToday, Instant dayEnds) {
    public KeyUsage {
        requireNonNull(quota, "quota");
        requireNonNull(dayEnds, "dayEnds");
    }
}
