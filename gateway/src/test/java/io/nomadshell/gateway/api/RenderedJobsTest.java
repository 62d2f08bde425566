package io.nomadshell.gateway.api;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobSession;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RenderedJobsTest {
    private final List<Job> rendered = new ArrayList<>();
    private final RenderedJobs jobs = new RenderedJobs(job -> {
        rendered.add(job);
        return (job.id() + " " + job.status() + " " + job.task()).getBytes(UTF_8);
    });

    @Test
    void anUnchangedJobIsRenderedOnceAndAChangedOneAgain() {
        var running = job(JobIds.next(), "build it", JobStatus.RUNNING);
        var first = jobs.json(running);
        assertThat(jobs.json(copyOf(running))).isSameAs(first);
        assertThat(rendered).containsExactly(running);

        var complete = copyOf(running, JobStatus.COMPLETE);
        assertThat(new String(jobs.json(complete), UTF_8)).isEqualTo(running.id() + " COMPLETE build it");
        assertThat(rendered).containsExactly(running, complete);
    }

    @Test
    void jobsSharingASlotAreEachRenderedRight() {
        var all = new ArrayList<Job>();
        for (int i = 0; i < 2000; i++) {
            all.add(job(JobIds.next(), "task " + i, JobStatus.COMPLETE));
        }
        for (int round = 0; round < 2; round++) {
            for (var job : all) {
                assertThat(new String(jobs.json(job), UTF_8)).isEqualTo(job.id() + " COMPLETE " + job.task());
            }
        }
    }

    @Test
    void aLargeAnswerIsNotKept() {
        var large = job(JobIds.next(), "x".repeat(RenderedJobs.MAX_KEPT_BYTES), JobStatus.COMPLETE);
        jobs.json(large);
        jobs.json(large);
        assertThat(rendered).containsExactly(large, large);
    }

    private static Job job(String id, String task, JobStatus status) {
        return new Job(id, "owner", task, status, null, Instant.ofEpochMilli(1_000), null, null, 0, 0, 0, 0, false,
                null, null, 0, SandboxResources.DEFAULT, JobSession.NONE);
    }

    /** An equal job that is another object, as each read from Redis is. */
    private static Job copyOf(Job job) {
        return copyOf(job, job.status());
    }

    private static Job copyOf(Job job, JobStatus status) {
        return new Job(new String(job.id()), job.owner(), new String(job.task()), status, null, job.createdAt(), null,
                null, 0, 0, 0, 0, false, null, null, 0, job.sandbox(), job.session());
    }
}
