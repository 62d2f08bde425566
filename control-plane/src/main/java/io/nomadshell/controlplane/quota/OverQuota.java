package io.nomadshell.controlplane.quota;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import java.time.Instant;

/** The refusal of a job past one of its key's limits: which limit, what is in use, and when it frees up. */
public final class OverQuota {
    private OverQuota() {}

    /**
     * @param limit the limit's name in the keys file ({@code running_jobs}, {@code tokens_per_day}, ...)
     * @param used what the key has in use of it
     * @param most the limit
     * @param dayEnds when the daily counts start again
     */
    public static JobException refusal(KeyQuota quota, String limit, String used, String most, Instant dayEnds) {
        var key = "API key " + quota.name();
        var message = switch (limit) {
            case "running_jobs" -> key + " has " + used + " jobs queued or running, its limit (running_jobs " + most
                    + "): a new job is accepted once one of them ends";
            case "queued_jobs" -> key + " has " + used + " jobs waiting to start, its limit (queued_jobs " + most
                    + "): a new job is accepted once one of them starts or ends";
            case "tokens_per_day" -> key + " used " + used + " model tokens today, its limit (tokens_per_day " + most
                    + "): new jobs are accepted again at " + dayEnds + " (UTC midnight)";
            case "usd_per_day" -> key + " spent $" + used + " on the model today, its limit (usd_per_day " + most
                    + "): new jobs are accepted again at " + dayEnds + " (UTC midnight)";
            default -> throw new IllegalArgumentException("no limit " + limit);
        };
        boolean daily = limit.endsWith("_per_day");
        return new JobException(Reason.OVER_QUOTA, message, daily ? dayEnds : null);
    }
}
