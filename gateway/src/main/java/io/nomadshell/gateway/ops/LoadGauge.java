package io.nomadshell.gateway.ops;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.JobManager;

/** Jobs queued and active, read from Redis when scraped; NaN when Redis does not answer. */
final class LoadGauge {
    private final JobManager jobs;

    LoadGauge(JobManager jobs) {
        this.jobs = requireNonNull(jobs, "jobs");
    }

    double queued() {
        try {
            return jobs.load().queued();
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    double active() {
        try {
            return jobs.load().active();
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }
}
