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
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandboxes of the default profile, started and attached before any job asks, each with a pool
 * member's identity only. A job of that profile {@link #claim}s one (its workspace and credential
 * are given to it then), or launches cold when none is ready. A member serves one job and is never
 * given back; the pool refills in the background while jobs and members together stay within
 * {@code --max-running} and the members within the memory budget, and replaces members idle past
 * the TTL. Closing the pool stops every member.
 */
public final class WarmPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WarmPool.class);
    private static final Duration CHECK_EVERY = Duration.ofSeconds(1);
    private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final int QUIET_FAILURES = 3;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

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

    private final WarmPoolOptions options;
    private final SandboxResources profile;
    private final Members members;
    private final JobMetrics metrics;
    private final LinkedBlockingDeque<PoolSandbox> ready = new LinkedBlockingDeque<>();
    private final Semaphore wake = new Semaphore(0);
    private final Thread refiller = Thread.ofVirtual().name("warm-pool").unstarted(this::refill);
    private volatile IntSupplier running = () -> 0;
    private volatile int maxRunning = 1;
    private volatile boolean closed;
    private volatile long largestMember;

    public WarmPool(WarmPoolOptions options, SandboxResources profile, Members members, JobMetrics metrics) {
        this.options = requireNonNull(options, "options");
        this.profile = requireNonNull(profile, "profile");
        this.members = requireNonNull(members, "members");
        this.metrics = requireNonNull(metrics, "metrics");
        metrics.watchPool(ready::size);
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
        if (options.size() > 0) {
            refiller.start();
            log.info("warm pool: keeping {} sandboxes ready (idle at most {}, {} MiB of memory)", options.size(),
                    options.ttl(), options.memoryBytes() >> 20);
        }
    }

    /**
     * Gives a ready member to {@code jobId}, whose sandbox asks for {@code wanted}: its workspace becomes
     * {@code workspace} (empty) and its daemon the job's (a resume secret good until {@code expiry}).
     * Empty when the job is not of the pool's profile or no member could be claimed: launch cold then.
     */
    public Optional<PoolSandbox> claim(String jobId, Path workspace, SandboxResources wanted, Instant expiry)
            throws InterruptedException {
        if (options.size() == 0 || !ofProfile(wanted)) {
            return Optional.empty();
        }
        long start = System.nanoTime();
        try {
            PoolSandbox member;
            while ((member = ready.pollFirst()) != null) {
                if (member.exitReason().isPresent()) {
                    retire(member.jobId(), member, "it had ended");
                    continue;
                }
                String memberId = member.jobId();
                try {
                    member.claim(jobId, workspace);
                    members.claims().claim(memberId, jobId, expiry, CLAIM_TIMEOUT);
                } catch (LaunchException | SandboxLostException e) {
                    // The job's workspace may be the member's already: the job launches cold on it.
                    log.warn("job {} could not claim the warm-pool sandbox {}: {}", jobId, memberId, e.getMessage());
                    retire(memberId, member, "its claim failed");
                    break;
                }
                var latency = Duration.ofNanos(System.nanoTime() - start);
                metrics.poolClaimed(latency);
                log.info("job {} claimed the warm-pool sandbox {} (started at {}) in {} ms", jobId, memberId,
                        member.startedAt(), latency.toMillis());
                return Optional.of(member);
            }
            metrics.poolMissed();
            return Optional.empty();
        } finally {
            wake.release();
        }
    }

    private boolean ofProfile(SandboxResources wanted) {
        return wanted.cpuMhz() == profile.cpuMhz() && wanted.memoryMb() == profile.memoryMb()
                && wanted.diskMb() == profile.diskMb() && wanted.egressAllow().equals(profile.egressAllow());
    }

    private void refill() {
        int failures = 0;
        while (!closed) {
            try {
                recycle();
                if (!wanted()) {
                    wake.tryAcquire(CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                    wake.drainPermits();
                    continue;
                }
                var failure = startOne();
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

    /** Whether one more member fits: below the pool's size, {@code --max-running} and the memory budget. */
    private boolean wanted() {
        int idle = ready.size();
        if (idle >= options.size() || running.getAsInt() + idle >= maxRunning) {
            return false;
        }
        long used = 0;
        for (var member : ready) {
            long bytes = member.memoryBytes();
            largestMember = Math.max(largestMember, bytes);
            used += bytes;
        }
        return used + largestMember <= options.memoryBytes();
    }

    /** Replaces members idle past the TTL, and drops those that ended. */
    private void recycle() {
        var oldest = Instant.now().minus(options.ttl());
        for (var member : ready) {
            boolean ended = member.exitReason().isPresent();
            if ((ended || member.startedAt().isBefore(oldest)) && ready.remove(member)) {
                retire(member.jobId(), member, ended ? "it had ended" : "it was idle for " + options.ttl());
            }
        }
    }

    /** Starts one member, waits for its daemon to attach and warms it up; why not, when it did not. */
    private Optional<String> startOne() throws InterruptedException {
        var memberId = MemberIds.next();
        var token = members.tokens().issue(memberId,
                Instant.now().plus(options.ttl()).plus(members.readyTimeout()).plus(CLAIM_TIMEOUT));
        members.sessions().expect(memberId);
        PoolSandbox member = null;
        try {
            member = members.launcher().startMember(new MemberSpec(memberId, token, members.workspaces(), profile));
            warmUp(DaemonWait.await(memberId, member::exitReason, members.sessions(), members.readyTimeout()));
            if (closed) {
                return Optional.empty();
            }
            ready.addLast(member);
            log.info("warm-pool sandbox {} is ready ({} of {})", memberId, ready.size(), options.size());
            member = null;
            return Optional.empty();
        } catch (LaunchException | SandboxLostException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        } finally {
            if (member != null) {
                retire(memberId, member, "it never became ready");
            } else if (ready.stream().noneMatch(m -> m.jobId().equals(memberId))) {
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
        PoolSandbox member;
        while ((member = ready.pollFirst()) != null) {
            retire(member.jobId(), member, "the control plane is stopping");
        }
    }
}
