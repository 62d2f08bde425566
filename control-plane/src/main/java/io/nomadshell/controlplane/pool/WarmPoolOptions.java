package io.nomadshell.controlplane.pool;

import static java.util.Objects.requireNonNull;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;

/**
 * How many warm sandboxes a control plane keeps, for jobs of the default profile and of other profiles.
 *
 * @param size idle members of the default profile kept ready; 0 keeps none (those jobs start cold)
 * @param profiles pools of other profiles, one per profile
 * @param ttl how long a member may stay idle before it is replaced by a fresh one
 * @param memoryBytes what the idle members may use together (their processes' PSS); with their
 *     memory reservations where the launcher reserves it (Nomad); the pools refill only while one more
 *     member fits
 */
public record WarmPoolOptions(int size, List<ProfilePool> profiles, Duration ttl, long memoryBytes) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);

    /** No pool: today's behaviour. */
    public static final WarmPoolOptions NONE = new WarmPoolOptions(0, DEFAULT_TTL, defaultMemoryBytes());

    public WarmPoolOptions {
        requireNonNull(ttl, "ttl");
        profiles = List.copyOf(profiles);
        if (size < 0 || !ttl.isPositive() || memoryBytes <= 0) {
            throw new IllegalArgumentException("the warm pool's size must be 0 or more, its TTL and memory positive");
        }
        var seen = new HashSet<String>();
        for (var profile : profiles) {
            if (!seen.add(profile.label())) {
                throw new IllegalArgumentException("the warm-pool profile " + profile.label() + " is given twice");
            }
        }
    }

    /** A pool of the default profile only. */
    public WarmPoolOptions(int size, Duration ttl, long memoryBytes) {
        this(size, List.of(), ttl, memoryBytes);
    }

    /** An eighth of this host's memory: room for the jobs themselves stays. */
    public static long defaultMemoryBytes() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        long total = os instanceof com.sun.management.OperatingSystemMXBean bean ? bean.getTotalMemorySize() : 0;
        return total > 0 ? total / 8 : 1L << 30;
    }
}
