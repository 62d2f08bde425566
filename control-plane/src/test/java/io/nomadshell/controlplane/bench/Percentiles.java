package io.nomadshell.controlplane.bench;

import java.util.Arrays;

/** Latency samples in nanoseconds, summarised as p50/p99 in milliseconds. */
final class Percentiles {
    private final long[] sorted;

    Percentiles(long[] samples) {
        this.sorted = samples.clone();
        Arrays.sort(sorted);
    }

    double millis(double percentile) {
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(index, sorted.length - 1))] / 1e6;
    }

    @Override
    public String toString() {
        return String.format("p50 %.3f ms, p99 %.3f ms (n=%d)", millis(50), millis(99), sorted.length);
    }
}
