package io.nomadshell.controlplane.job;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The states of a job and the only transitions allowed between them:
 * {@code pending → starting → running → complete | error | cancelled}; a job that has not ended can
 * also fail or be cancelled from any earlier state. A job is {@code paused} from any state but by
 * its runner's failure (a pause, or a rollback), and goes back to {@code pending} from {@code paused}
 * or an end (a resume, or a message): an end is where a job stops, not necessarily for good.
 */
public enum JobStatus {
    PENDING,
    STARTING,
    RUNNING,
    PAUSED,
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

    /** Whether a runner drives the job (it holds a sandbox, or is about to). */
    public boolean isActive() {
        return this == STARTING || this == RUNNING;
    }

    /** The states a job may be in to move to {@code target}. */
    public static Set<JobStatus> predecessorsOf(JobStatus target) {
        return switch (target) {
            case PENDING -> EnumSet.of(PAUSED, COMPLETE, ERROR, CANCELLED);
            case STARTING -> EnumSet.of(PENDING);
            case RUNNING -> EnumSet.of(STARTING);
            case PAUSED -> EnumSet.of(PENDING, STARTING, RUNNING, COMPLETE, ERROR, CANCELLED);
            case COMPLETE -> EnumSet.of(RUNNING);
            case ERROR -> EnumSet.of(PENDING, STARTING, RUNNING);
            case CANCELLED -> EnumSet.of(PENDING, STARTING, RUNNING, PAUSED);
        };
    }

    public boolean canMoveTo(JobStatus target) {
        return predecessorsOf(target).contains(this);
    }
}
