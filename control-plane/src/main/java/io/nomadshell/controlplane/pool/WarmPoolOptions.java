package io.nomadshell.controlplane.pool;

import static java.util.Objects.requireNonNull;

import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * How many warm sandboxes a control plane keeps for jobs of the default profile.
 *
 * @param size idle members kept ready; 0 keeps no pool (every sandbox starts when its job does)
 * @param ttl how long a member may stay idle before it is replaced by a fresh one
 * @param memoryBytes what the idle members may use together (their processes' PSS); the pool refills
 *     only while one more member fits
 */
public record WarmPoolOptions(int size, Duration ttl, long memoryBytes) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);

    /** No pool: today's behaviour. */
    public static final WarmPoolOptions NONE = new WarmPoolOptions(0, DEFAULT_TTL, defaultMemoryBytes());

    public WarmPoolOptions {
        requireNonNull(ttl, "ttl");
        if (size < 0 || !ttl.isPositive() || memoryBytes <= 0) {
            throw new IllegalArgumentException("the warm pool's size must be 0 or more, its TTL and memory positive");
        }
    }

    /** An eighth of this host's memory: room for the jobs themselves stays. */
    public static long defaultMemoryBytes() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        long total = os instanceof com.sun.management.OperatingSystemMXBean bean ? bean.getTotalMemorySize() : 0;
        return total > 0 ? total / 8 : 1L << 30;
    }
}
