package io.nomadshell.controlplane.pool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.MemberSpec;
import io.nomadshell.controlplane.launch.PoolSandbox;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.metrics.JobMetrics;
import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.controlplane.session.DaemonWait;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.session.MemberIds;
import io.nomadshell.controlplane.session.PoolClaims;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ToolCall;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandboxes started and attached before any job asks, each with a pool member's identity only, in one
 * {@link Shelf} per sandbox profile (the default one, and those the operator names). A job {@link #claim}s
 * a member of its exact profile (its workspace and credential are given to it then), or launches cold
 * when none is ready. A member serves one job and is never given back; the shelves refill in the
 * background while jobs and idle members together stay within {@code --max-running} and the idle
 * members within the memory budget, and replace members idle past the TTL. Closing the pool stops
 * every member.
 */
public final class WarmPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WarmPool.class);
    private static final Duration CHECK_EVERY = Duration.ofSeconds(1);
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final int QUIET_FAILURES = 3;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
    /** What metrics call the pool of the default profile. */
    public static final String DEFAULT_PROFILE = "default";

    /** What the pool starts its members with. */
    public record Members(SandboxLauncher launcher, SessionRegistry sessions, JobTokens tokens, PoolClaims claims,
            Path workspaces, Duration readyTimeout) {
        public Members {
            requireNonNull(launcher, "launcher");
            requireNonNull(sessions, "sessions");
            requireNonNull(tokens, "tokens");
            requireNonNull(claims, "claims");
            requireNonNull(workspaces, "workspaces");
            requireNonNull(readyTimeout, "readyTimeout");
        }
    }

    /** The members of one profile: how many to keep, those ready, the most one of them was seen to use. */
    private static final class Shelf {
        final String label;
        final SandboxResources profile;
        final int size;
        final LinkedBlockingDeque<PoolSandbox> ready = new LinkedBlockingDeque<>();
        volatile long largestMember;

        Shelf(String label, SandboxResources profile, int size) {
            this.label = label;
            this.profile = profile;
            this.size = size;
        }

        /** How full it is, from 0 (empty) to 1: the emptiest shelf refills first. */
        double fill() {
            return (double) ready.size() / size;
        }
    }

    private final WarmPoolOptions options;
    private final List<Shelf> shelves = new ArrayList<>();
    private final Members members;
    private final JobMetrics metrics;
    private final Semaphore wake = new Semaphore(0);
    private final Thread refiller = Thread.ofVirtual().name("warm-pool").unstarted(this::refill);
    private volatile IntSupplier running = () -> 0;
    private volatile int maxRunning = 1;
    private volatile boolean closed;

    /**
     * A pool of {@code options.size()} members of {@code defaults} (what a job that asks for nothing is
     * granted), and of each of {@code options.profiles()}.
     */
    public WarmPool(WarmPoolOptions options, SandboxResources defaults, Members members, JobMetrics metrics) {
        this.options = requireNonNull(options, "options");
        requireNonNull(defaults, "defaults");
        this.members = requireNonNull(members, "members");
        this.metrics = requireNonNull(metrics, "metrics");
        if (options.size() > 0) {
            shelves.add(new Shelf(DEFAULT_PROFILE, defaults, options.size()));
        }
        for (var pool : options.profiles()) {
            if (pool.serves(defaults)) {
                throw new IllegalArgumentException("the warm-pool profile " + pool.label()
                        + " is the default profile: size its pool with --warm-pool");
            }
            shelves.add(new Shelf(pool.label(), pool.resources(), pool.size()));
        }
        if (options.size() == 0) {
            // The default profile's meters are always there, so a dashboard sees zeros rather than nothing.
            metrics.watchPool(DEFAULT_PROFILE, () -> 0);
        }
        for (var shelf : shelves) {
            metrics.watchPool(shelf.label, shelf.ready::size);
        }
    }

    /**
     * Starts filling the pool in the background.
     *
     * @param running how many jobs run on this replica now
     * @param maxRunning the most sandboxes (jobs and pool members together) the pool fills up to
     */
    public void start(IntSupplier running, int maxRunning) {
        this.running = requireNonNull(running, "running");
        this.maxRunning = maxRunning;
        if (!shelves.isEmpty()) {
            refiller.start();
            for (var shelf : shelves) {
                log.info("warm pool: keeping {} sandboxes of the profile {} ready", shelf.size,
                        ProfilePool.label(shelf.profile));
            }
            log.info("warm pool: members idle at most {}, {} MiB of memory for them all", options.ttl(),
                    options.memoryBytes() >> 20);
        }
    }

    /**
     * Gives a ready member to {@code jobId}, whose sandbox asks for {@code wanted}: its workspace becomes
     * {@code workspace} (empty) and its daemon the job's (a resume secret good until {@code expiry}).
     * Empty when no pool keeps {@code wanted}'s profile or no member could be claimed: launch cold then.
     */
    public Optional<PoolSandbox> claim(String jobId, Path workspace, SandboxResources wanted, Instant expiry)
            throws InterruptedException {
        var found = shelves.stream().filter(shelf -> ProfilePool.ofProfile(shelf.profile, wanted)).findFirst();
        if (found.isEmpty()) {
            return Optional.empty();
        }
        var shelf = found.get();
        long start = System.nanoTime();
        try {
            PoolSandbox member;
            while ((member = shelf.ready.pollFirst()) != null) {
                if (member.exitReason().isPresent()) {
                    retire(member.jobId(), member, "it had ended");
                    continue;
                }
                String memberId = member.jobId();
                try {
                    claim(member, memberId, jobId, workspace, expiry);
                } catch (LaunchException | SandboxLostException e) {
                    // The job's workspace may be the member's already: the job launches cold on it.
                    log.warn("job {} could not claim the warm-pool sandbox {}: {}", jobId, memberId, e.getMessage());
                    retire(memberId, member, "its claim failed");
                    break;
                }
                var latency = Duration.ofNanos(System.nanoTime() - start);
                metrics.poolClaimed(shelf.label, latency);
                log.info("job {} claimed the warm-pool sandbox {} (started at {}) in {} ms", jobId, memberId,
                        member.startedAt(), latency.toMillis());
                return Optional.of(member);
            }
            metrics.poolMissed(shelf.label);
            return Optional.empty();
        } finally {
            wake.release();
        }
    }

    /**
     * Gives the workspace (on the host: a bind mount, a process of its own) while the daemon's Claim
     * round trip is under way: neither needs the other, and the job's first call waits for both.
     */
    private void claim(PoolSandbox member, String memberId, String jobId, Path workspace, Instant expiry)
            throws LaunchException, SandboxLostException, InterruptedException {
        var binding = new FutureTask<Void>(() -> {
            member.claim(jobId, workspace);
            return null;
        });
        Thread.ofVirtual().name("claim-" + jobId).start(binding);
        try {
            members.claims().claim(memberId, jobId, expiry, CLAIM_TIMEOUT);
        } finally {
            try {
                binding.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof LaunchException launch) {
                    throw launch;
                }
                throw new LaunchException("the warm-pool workspace could not be given: " + e.getCause(), e.getCause());
            }
        }
    }

    private void refill() {
        int failures = 0;
        while (!closed) {
            try {
                recycle();
                var next = wanted();
                if (next.isEmpty()) {
                    wake.tryAcquire(CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                    wake.drainPermits();
                    continue;
                }
                var failure = startOne(next.get());
                if (failure.isEmpty()) {
                    failures = 0;
                } else {
                    failures++;
                    // The first tries may come before the server's Attach listener is up.
                    var pause = backoff(failures);
                    if (failures < QUIET_FAILURES) {
                        log.info("a warm-pool sandbox could not be started yet ({}); trying again in {} s",
                                failure.get(), pause.toSeconds());
                    } else {
                        log.warn("a warm-pool sandbox could not be started: {}; trying again in {} s",
                                failure.get(), pause.toSeconds());
                    }
                    Thread.sleep(pause);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("the warm pool could not refill: {}", e.toString());
                failures++;
                try {
                    Thread.sleep(backoff(failures));
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    private static Duration backoff(int failures) {
        var pause = Duration.ofSeconds(1L << Math.min(failures - 1, 5));
        return pause.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : pause;
    }

    /**
     * The emptiest shelf below its size, when one more member fits within {@code --max-running} and the
     * memory budget: what the idle members use (or reserve) together, plus what the next one will (the
     * most one of its profile was seen to use, or what the launcher reserves for it).
     */
    private Optional<Shelf> wanted() {
        int idle = 0;
        long used = 0;
        for (var shelf : shelves) {
            idle += shelf.ready.size();
            for (var member : shelf.ready) {
                long bytes = member.memoryBytes();
                shelf.largestMember = Math.max(shelf.largestMember, bytes);
                used += bytes;
            }
        }
        if (running.getAsInt() + idle >= maxRunning) {
            return Optional.empty();
        }
        long free = options.memoryBytes() - used;
        return shelves.stream()
                .filter(shelf -> shelf.ready.size() < shelf.size)
                .filter(shelf -> Math.max(shelf.largestMember, members.launcher().memberMemoryBytes(shelf.profile)) <= free)
                .min(Comparator.comparingDouble(Shelf::fill));
    }

    /** Replaces members idle past the TTL, and drops those that ended. */
    private void recycle() {
        var oldest = Instant.now().minus(options.ttl());
        for (var shelf : shelves) {
            for (var member : shelf.ready) {
                boolean ended = member.exitReason().isPresent();
                if ((ended || member.startedAt().isBefore(oldest)) && shelf.ready.remove(member)) {
                    retire(member.jobId(), member, ended ? "it had ended" : "it was idle for " + options.ttl());
                }
            }
        }
    }

    /** Starts one member of {@code shelf}, waits for its daemon to attach and warms it up; why not, when it did not. */
    private Optional<String> startOne(Shelf shelf) throws InterruptedException {
        var memberId = MemberIds.next();
        var token = members.tokens().issue(memberId,
                Instant.now().plus(options.ttl()).plus(members.readyTimeout()).plus(CLAIM_TIMEOUT));
        members.sessions().expect(memberId);
        PoolSandbox member = null;
        try {
            member = members.launcher().startMember(new MemberSpec(memberId, token, members.workspaces(), shelf.profile));
            warmUp(DaemonWait.await(memberId, member::exitReason, members.sessions(), members.readyTimeout()));
            if (closed) {
                return Optional.empty();
            }
            shelf.ready.addLast(member);
            log.info("warm-pool sandbox {} is ready ({} of {}, profile {})", memberId, shelf.ready.size(), shelf.size,
                    shelf.label);
            member = null;
            return Optional.empty();
        } catch (LaunchException | SandboxLostException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        } finally {
            if (member != null) {
                retire(memberId, member, "it never became ready");
            } else if (shelf.ready.stream().noneMatch(m -> m.jobId().equals(memberId))) {
                members.sessions().forget(memberId, "the warm-pool sandbox did not start");
            }
        }
    }

    /**
     * Runs {@code true} through the member's exec tool once, so that its first call for a job finds the
     * daemon's code for it loaded and compiled. It leaves nothing in the workspace.
     */
    private void warmUp(DaemonSession session) throws SandboxLostException, InterruptedException {
        var call = ToolCall.newBuilder()
                .setCallId("warm-up")
                .setExec(ExecAction.newBuilder().setCommand("true"))
                .build();
        try {
            session.call(call, event -> {}).get(members.readyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new SandboxLostException("its warm-up failed: " + e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new SandboxLostException("its warm-up took longer than " + members.readyTimeout().toSeconds() + " s");
        }
    }

    private void retire(String memberId, PoolSandbox member, String why) {
        log.info("stopping the warm-pool sandbox {}: {}", memberId, why);
        members.sessions().forget(memberId, "the warm pool no longer needs this sandbox");
        member.close();
    }

    /** Stops refilling and stops every member not yet claimed. */
    @Override
    public void close() {
        closed = true;
        refiller.interrupt();
        try {
            if (refiller.isAlive()) {
                refiller.join(CLOSE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (var shelf : shelves) {
            PoolSandbox member;
            while ((member = shelf.ready.pollFirst()) != null) {
                retire(member.jobId(), member, "the control plane is stopping");
            }
        }
    }
}
