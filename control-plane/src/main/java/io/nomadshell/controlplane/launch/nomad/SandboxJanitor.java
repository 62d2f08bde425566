package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import com.hashicorp.nomad.apimodel.JobListStub;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps Nomad in step with the job store: stops dispatched sandboxes whose Nomad Shell job has
 * ended (or is unknown) for longer than their own control plane takes to close them — orphans of
 * a control plane that stopped — purges finished dispatched jobs older than the retention, and
 * removes launch credentials whose sandbox is not running ({@link SandboxCredentials#sweep}).
 * Warm-pool sandboxes are kept while their owner lives ({@link PoolOwners}) and, once claimed by a job
 * of this control plane, while that job has yet to end.
 */
final class SandboxJanitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SandboxJanitor.class);
    static final String JOB_META = "nomad_shell_job";
    /** "true" on a warm-pool sandbox, whose {@link #JOB_META} is its member id until claimed. */
    static final String POOL_META = "pool";
    /** On a warm-pool sandbox: the launcher that owns it ({@link PoolOwners}). */
    static final String OWNER_META = "pool_owner";

    private final NomadApi api;
    private final NomadOptions options;
    private final Predicate<String> jobIsActive;
    private final PoolOwners owners;
    private final SandboxCredentials credentials;
    /** Sandboxes of ended jobs, and when that was first seen: their own control plane may still be closing them. */
    private final Map<String, Instant> endedSince = new HashMap<>();
    private final Thread thread;

    private SandboxJanitor(NomadApi api, NomadOptions options, Predicate<String> jobIsActive, PoolOwners owners,
            SandboxCredentials credentials) {
        this.api = api;
        this.options = options;
        this.jobIsActive = jobIsActive;
        this.owners = owners;
        this.credentials = credentials;
        this.thread = Thread.ofVirtual().name("nomad-sandbox-janitor").unstarted(this::loop);
    }

    static SandboxJanitor start(NomadApi api, NomadOptions options, Predicate<String> jobIsActive,
            PoolOwners owners, SandboxCredentials credentials) {
        var janitor = new SandboxJanitor(requireNonNull(api, "api"), requireNonNull(options, "options"),
                requireNonNull(jobIsActive, "jobIsActive"), requireNonNull(owners, "owners"),
                requireNonNull(credentials, "credentials"));
        janitor.thread.start();
        return janitor;
    }

    private void loop() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                sweep();
            } catch (NomadApiException | RuntimeException e) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                log.warn("reconciling sandboxes with Nomad failed: {}; trying again in {} s",
                        e.getMessage(), options.reconcileInterval().toSeconds());
            }
            try {
                Thread.sleep(options.reconcileInterval());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One pass over the dispatched sandbox jobs. */
    void sweep() throws NomadApiException {
        var now = Instant.now();
        var purgeBefore = now.minus(options.retention());
        var stillEnded = new HashMap<String, Instant>();
        var running = new HashSet<String>();
        try {
            owners.beat();
        } catch (NomadApiException e) {
            // The other control planes' janitors will take this one's warm-pool sandboxes for orphans.
            log.warn("could not tell Nomad that this control plane's warm pool lives: {}", e.getMessage());
        }
        for (var job : api.jobs(options.jobPrefix() + "-")) {
            if (job.getParentId() == null || job.getParentId().isEmpty()) {
                continue; // a parent job: kept registered
            }
            if (!"dead".equals(job.getStatus())) {
                var owner = meta(job, JOB_META);
                if (owner != null && wanted(owner, job)) {
                    running.add(owner);
                    continue;
                }
                var since = endedSince.getOrDefault(job.getId(), now);
                stillEnded.put(job.getId(), since);
                if (!since.plus(options.orphanGrace()).isAfter(now)) {
                    log.info("stopping sandbox {}: its job {} has ended (or its warm pool's control plane)",
                            job.getId(), owner);
                    api.stop(job.getId(), false);
                }
            } else if (submitted(job).isBefore(purgeBefore)) {
                log.debug("purging finished sandbox job {}", job.getId());
                api.stop(job.getId(), true);
            }
        }
        endedSince.clear();
        endedSince.putAll(stillEnded);
        credentials.sweep(running, options.orphanGrace());
    }

    /** Whether the sandbox of {@code owner} (a job, or a warm-pool member) is still wanted. */
    private boolean wanted(String owner, JobListStub job) {
        var poolOwner = meta(job, OWNER_META);
        if ("true".equals(meta(job, POOL_META)) && poolOwner != null) {
            try {
                return owners.keep(owner, poolOwner, jobIsActive);
            } catch (NomadApiException e) {
                log.warn("could not tell whether the warm pool of sandbox {} lives, so it is kept: {}", job.getId(),
                        e.getMessage());
                return true;
            }
        }
        return jobIsActive.test(owner);
    }

    private static @Nullable String meta(JobListStub job, String key) {
        // Listed with meta=true (Nomad 1.6+); the SDK, from Nomad 0.11, keeps it as an unmapped field.
        if (job.getUnmappedProperties() != null && job.getUnmappedProperties().get("Meta") instanceof Map<?, ?> meta
                && meta.get(key) instanceof String value) {
            return value;
        }
        return null;
    }

    private static Instant submitted(JobListStub job) {
        long nanos = job.getSubmitTime();
        return Instant.ofEpochSecond(0, nanos);
    }

    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        owners.close();
    }
}
