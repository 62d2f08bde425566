package io.nomadshell.controlplane.metrics;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.util.Timestamps;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.store.JobStoreListener;
import io.nomadshell.proto.v1.JobEvent;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import org.jspecify.annotations.Nullable;

/**
 * What this replica's jobs do, as meters: jobs entering each state, sandbox ready time (starting →
 * running), tool latency by tool, model calls and tokens, and the warm pool (size, claims, misses,
 * claim latency). Fed by the job store as it writes, so it
 * counts the jobs this replica runs; a fleet's figures are the sum over replicas.
 */
public final class JobMetrics implements JobStoreListener, MeterBinder {
    /** More jobs or calls in flight than this on one replica means a leak: start over rather than grow. */
    private static final int MAX_TRACKED = 10_000;

    private final ConcurrentHashMap<String, Long> startingSinceMillis = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> toolByCall = new ConcurrentHashMap<>();
    private volatile @Nullable MeterRegistry registry;
    private final ConcurrentHashMap<String, IntSupplier> poolSizes = new ConcurrentHashMap<>();

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        // Present from the start, so a dashboard sees zeros rather than nothing.
        for (var status : JobStatus.values()) {
            transitions(registry, status.wireName());
        }
        readyTime(registry);
        tokens(registry, "prompt");
        tokens(registry, "completion");
        modelCalls(registry);
        poolSizes.forEach((profile, size) -> pool(registry, profile, size));
    }

    /** Where the size of the warm pool of {@code profile} is read from; its meters start at zero. */
    public void watchPool(String profile, IntSupplier size) {
        requireNonNull(profile, "profile");
        requireNonNull(size, "size");
        poolSizes.put(profile, size);
        var registry = this.registry;
        if (registry != null) {
            pool(registry, profile, size);
        }
    }

    private static void pool(MeterRegistry registry, String profile, IntSupplier size) {
        Gauge.builder("nomadshell.pool.size", size::getAsInt)
                .description("Warm-pool sandboxes started, attached and waiting for a job")
                .tag("profile", profile)
                .register(registry);
        poolClaims(registry, profile);
        poolMisses(registry, profile);
        poolClaimLatency(registry, profile);
    }

    /** A job took a warm-pool sandbox of {@code profile}, in {@code latency} from asking to its daemon being the job's. */
    public void poolClaimed(String profile, Duration latency) {
        var registry = this.registry;
        if (registry != null) {
            poolClaims(registry, profile).increment();
            poolClaimLatency(registry, profile).record(latency);
        }
    }

    /** A job of {@code profile}, whose pool is kept, found no warm sandbox ready and launches cold. */
    public void poolMissed(String profile) {
        var registry = this.registry;
        if (registry != null) {
            poolMisses(registry, profile).increment();
        }
    }

    @Override
    public void onEvent(JobEvent event) {
        var registry = this.registry;
        if (registry == null) {
            return;
        }
        var job = event.getJobId();
        switch (event.getKindCase()) {
            case STATUS_CHANGED -> {
                var status = event.getStatusChanged().getStatus();
                transitions(registry, status).increment();
                long at = Timestamps.toMillis(event.getTime());
                if (status.equals(JobStatus.STARTING.wireName())) {
                    track(startingSinceMillis, job, at);
                } else if (status.equals(JobStatus.RUNNING.wireName())) {
                    var since = startingSinceMillis.remove(job);
                    if (since != null) {
                        readyTime(registry).record(Duration.ofMillis(Math.max(0, at - since)));
                    }
                } else if (JobStatus.fromWireName(status).isTerminal()) {
                    startingSinceMillis.remove(job);
                    toolByCall.keySet().removeIf(key -> key.startsWith(job + "/"));
                }
            }
            case TOOL_STARTED -> track(toolByCall, job + "/" + event.getToolStarted().getCallId(),
                    event.getToolStarted().getTool());
            case TOOL_FINISHED -> {
                var finished = event.getToolFinished();
                var tool = toolByCall.remove(job + "/" + finished.getCallId());
                Timer.builder("nomadshell.tool.duration")
                        .description("Tool calls in the sandbox, from sent to result")
                        .tag("tool", tool == null ? "unknown" : tool)
                        .tag("ok", Boolean.toString(finished.getOk()))
                        .publishPercentileHistogram()
                        .register(registry)
                        .record(Duration.ofMillis(finished.getDurationMs()));
            }
            default -> {
                // Messages, output and artifacts are counted by nothing here.
            }
        }
    }

    @Override
    public void onUsage(int steps, long promptTokens, long completionTokens) {
        var registry = this.registry;
        if (registry == null) {
            return;
        }
        modelCalls(registry).increment(steps);
        tokens(registry, "prompt").increment(promptTokens);
        tokens(registry, "completion").increment(completionTokens);
    }

    private static <V> void track(ConcurrentHashMap<String, V> map, String key, V value) {
        if (map.size() >= MAX_TRACKED) {
            map.clear();
        }
        map.put(key, value);
    }

    private static Counter transitions(MeterRegistry registry, String status) {
        return Counter.builder("nomadshell.jobs.transitions")
                .description("Jobs entering each state on this replica")
                .tag("status", status)
                .register(registry);
    }

    private static Timer readyTime(MeterRegistry registry) {
        return Timer.builder("nomadshell.sandbox.ready")
                .description("From starting to running: a sandbox launched and its daemon attached")
                .publishPercentileHistogram()
                .register(registry);
    }

    private static Counter poolClaims(MeterRegistry registry, String profile) {
        return Counter.builder("nomadshell.pool.claims")
                .description("Jobs that got a warm-pool sandbox")
                .tag("profile", profile)
                .register(registry);
    }

    private static Counter poolMisses(MeterRegistry registry, String profile) {
        return Counter.builder("nomadshell.pool.misses")
                .description("Jobs of a pool's profile that found no warm sandbox and launched cold")
                .tag("profile", profile)
                .register(registry);
    }

    private static Timer poolClaimLatency(MeterRegistry registry, String profile) {
        return Timer.builder("nomadshell.pool.claim")
                .description("From a job asking for a warm-pool sandbox to its daemon being the job's")
                .tag("profile", profile)
                .publishPercentileHistogram()
                .register(registry);
    }

    private static Counter tokens(MeterRegistry registry, String kind) {
        return Counter.builder("nomadshell.model.tokens")
                .description("Model tokens used by this replica's jobs")
                .tag("kind", kind)
                .register(registry);
    }

    private static Counter modelCalls(MeterRegistry registry) {
        return Counter.builder("nomadshell.model.calls")
                .description("Model round trips made by this replica's jobs")
                .register(registry);
    }
}
