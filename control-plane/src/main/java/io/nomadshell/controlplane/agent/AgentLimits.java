package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * When the loop gives up.
 *
 * @param maxSteps model calls per job
 * @param maxDuration wall time per job, from the moment it starts running
 * @param maxToolTimeout the longest a single exec may run
 */
public record AgentLimits(int maxSteps, Duration maxDuration, Duration maxToolTimeout) {
    public static final AgentLimits DEFAULT = new AgentLimits(50, Duration.ofMinutes(30), Duration.ofMinutes(10));

    public AgentLimits {
        requireNonNull(maxDuration, "maxDuration");
        requireNonNull(maxToolTimeout, "maxToolTimeout");
        if (maxSteps < 1) {
            throw new IllegalArgumentException("maxSteps must be at least 1");
        }
    }
}
