package io.nomadshell.controlplane.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobIdsTest {
    @Test
    void newIdsAreWellFormed() {
        for (int i = 0; i < 1000; i++) {
            assertThat(JobIds.isWellFormed(JobIds.next())).isTrue();
        }
    }

    @Test
    void onlyAJAndTwentyLowercaseBase32CharactersAreWellFormed() {
        assertThat(JobIds.isWellFormed("jabcdefghijklmnopqrs2")).isTrue();
        assertThat(JobIds.isWellFormed("jzzzzzzzzzzzzzzzzzzz7")).isTrue();
        assertThat(JobIds.isWellFormed("kabcdefghijklmnopqrs2")).as("another first letter").isFalse();
        assertThat(JobIds.isWellFormed("jabcdefghijklmnopqrs")).as("one short").isFalse();
        assertThat(JobIds.isWellFormed("jabcdefghijklmnopqrs22")).as("one long").isFalse();
        assertThat(JobIds.isWellFormed("jabcdefghijklmnopqrs1")).as("1 is not base-32").isFalse();
        assertThat(JobIds.isWellFormed("jabcdefghijklmnopqrs8")).as("8 is not base-32").isFalse();
        assertThat(JobIds.isWellFormed("jAbcdefghijklmnopqrs2")).as("uppercase").isFalse();
        assertThat(JobIds.isWellFormed("jabcdefghijklmnopqr/2")).isFalse();
        assertThat(JobIds.isWellFormed("")).isFalse();
    }
}
