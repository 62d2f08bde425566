package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

/**
 * One acquisition of a job's lease. Its token names the holder and the lease's epoch (each
 * acquisition of a job's lease has the next one), and every write the owner makes about the job is
 * checked against it in Redis: once another acquisition holds the lease, this one's writes are refused.
 */
public record Lease(String jobId, String token) {
    public Lease {
        requireNonNull(jobId, "jobId");
        requireNonNull(token, "token");
    }
}
