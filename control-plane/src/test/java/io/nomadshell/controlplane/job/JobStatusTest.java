package io.nomadshell.controlplane.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobStatusTest {
    @Test
    void theHappyPathMovesOneStepAtATime() {
        assertThat(JobStatus.PENDING.canMoveTo(JobStatus.STARTING)).isTrue();
        assertThat(JobStatus.STARTING.canMoveTo(JobStatus.RUNNING)).isTrue();
        assertThat(JobStatus.RUNNING.canMoveTo(JobStatus.COMPLETE)).isTrue();
        assertThat(JobStatus.PENDING.canMoveTo(JobStatus.RUNNING)).isFalse();
        assertThat(JobStatus.STARTING.canMoveTo(JobStatus.COMPLETE)).isFalse();
    }

    @Test
    void anEndedJobOnlyGoesOnOrIsPaused() {
        for (var ended : new JobStatus[] {JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED}) {
            assertThat(ended.isTerminal()).isTrue();
            for (var target : JobStatus.values()) {
                assertThat(ended.canMoveTo(target)).as("%s -> %s", ended, target)
                        .isEqualTo(target == JobStatus.PENDING || target == JobStatus.PAUSED);
            }
        }
    }

    @Test
    void aPausedJobWaitsForAResumeOrACancel() {
        assertThat(JobStatus.PAUSED.isTerminal()).isFalse();
        assertThat(JobStatus.PAUSED.isActive()).isFalse();
        for (var target : JobStatus.values()) {
            assertThat(JobStatus.PAUSED.canMoveTo(target)).as("paused -> %s", target)
                    .isEqualTo(target == JobStatus.PENDING || target == JobStatus.CANCELLED);
        }
        for (var any : JobStatus.values()) {
            assertThat(any.canMoveTo(JobStatus.PAUSED)).as("%s -> paused", any).isEqualTo(any != JobStatus.PAUSED);
        }
    }

    @Test
    void aJobThatHasNotEndedCanFailOrBeCancelled() {
        for (var live : new JobStatus[] {JobStatus.PENDING, JobStatus.STARTING, JobStatus.RUNNING}) {
            assertThat(live.canMoveTo(JobStatus.ERROR)).isTrue();
            assertThat(live.canMoveTo(JobStatus.CANCELLED)).isTrue();
        }
    }

    @Test
    void wireNamesAreTheLowercaseWords() {
        assertThat(JobStatus.COMPLETE.wireName()).isEqualTo("complete");
        assertThat(JobStatus.fromWireName("cancelled")).isEqualTo(JobStatus.CANCELLED);
    }
}
