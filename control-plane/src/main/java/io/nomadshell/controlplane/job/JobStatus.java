package io.nomadshell.controlplane.job;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The states of a job and the only transitions allowed between them:
 * {@code pending → starting → running → complete | error | cancelled}; a job that has not ended can
 * also fail or be cancelled from any earlier state.
 */
public enum JobStatus {
    PENDING,
    STARTING,
    RUNNING,
    COMPLETE,
    ERROR,
    CANCELLED;

    /** The lowercase word users see ({@code pending}, {@code complete}, ...). */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static JobStatus fromWireName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    public boolean isTerminal() {
        return this == COMPLETE || this == ERROR || this == CANCELLED;
    }

    /** The states a job may be in to move to {@code target}. */
    public static Set<JobStatus> predecessorsOf(JobStatus target) {
        return switch (target) {
            case PENDING -> EnumSet.noneOf(JobStatus.class);
            case STARTING -> EnumSet.of(PENDING);
            case RUNNING -> EnumSet.of(STARTING);
            case COMPLETE -> EnumSet.of(RUNNING);
            case ERROR, CANCELLED -> EnumSet.of(PENDING, STARTING, RUNNING);
        };
    }

    public boolean canMoveTo(JobStatus target) {
        return predecessorsOf(target).contains(this);
    }
}
