package io.nomadshell.gateway.ops;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.quota.KeyUsage;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * What each API key has in use, by the key's name (one series per key in the keys file, so as many as
 * the operator wrote): jobs running and queued, model tokens and dollars this UTC day. Read from Redis
 * when scraped, once per key for its four gauges; NaN when Redis does not answer.
 */
final class KeyUsageGauges {
    /** A scrape reads the four gauges of a key one after the other: one read serves them all. */
    private static final long FRESH_NANOS = 1_000_000_000L;

    private static final String JOBS =
            "Jobs of the API key by state (running: starting or running; queued: waiting to start), over all replicas";

    private final JobManager jobs;
    private final String owner;
    private @Nullable KeyUsage last;
    private long readAt;

    private KeyUsageGauges(JobManager jobs, String owner) {
        this.jobs = jobs;
        this.owner = owner;
    }

    static void register(MeterRegistry registry, JobManager jobs) {
        requireNonNull(registry, "registry");
        jobs.quotas().all().forEach((owner, quota) -> {
            var gauges = new KeyUsageGauges(jobs, owner);
            gauges.gauge(registry, "nomadshell.key.jobs", JOBS,
                    quota.name(), "running", KeyUsage::running);
            gauges.gauge(registry, "nomadshell.key.jobs", JOBS,
                    quota.name(), "queued", KeyUsage::queued);
            gauges.gauge(registry, "nomadshell.key.tokens.today", "Model tokens the API key's jobs used this UTC day",
                    quota.name(), null, KeyUsage::tokensToday);
            gauges.gauge(registry, "nomadshell.key.cost.usd.today",
                    "US dollars of model use of the API key's jobs this UTC day", quota.name(), null, KeyUsage::usdToday);
        });
    }

    private void gauge(MeterRegistry registry, String name, String description, String key, @Nullable String state,
            ToDoubleFunction<KeyUsage> value) {
        var builder = Gauge.builder(name, this, gauges -> gauges.read(value))
                .description(description).tag("key", key).strongReference(true);
        if (state != null) {
            builder.tag("state", state);
        }
        builder.register(registry);
    }

    private synchronized double read(ToDoubleFunction<KeyUsage> value) {
        try {
            if (last == null || System.nanoTime() - readAt > FRESH_NANOS) {
                last = jobs.usage(owner);
                readAt = System.nanoTime();
            }
            return value.applyAsDouble(last);
        } catch (RuntimeException e) {
            last = null;
            return Double.NaN;
        }
    }
}
