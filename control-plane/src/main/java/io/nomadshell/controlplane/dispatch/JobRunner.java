package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.Outcome;
import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.artifact.KeptWorkspace;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.pool.WarmPool;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.LeaseLostException;
import io.nomadshell.controlplane.trace.JobRun;
import io.nomadshell.controlplane.trace.JobTracer;
import io.nomadshell.controlplane.trace.Traceparent;
import io.nomadshell.controlplane.dispatch.WorkspaceArchiver.Archived;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.proto.v1.ArtifactReady;
import io.nomadshell.proto.v1.HandedOver;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one job from {@code starting} to its end: sandbox (claimed from the warm pool, or launched),
 * daemon, agent loop, zip; and whatever happens, kills the sandbox afterwards and, once the job has
 * ended, removes its workspace. A job that fails or is cancelled keeps what its workspace holds as a
 * partial zip, made within a bound.
 *
 * <p>A job found {@code running} is one whose control plane stopped: if its sandbox outlives that
 * replica (a Nomad job) and still runs, this replica adopts it and waits for its daemon to attach
 * here; otherwise it gets a new sandbox on the same workspace. Either way its loop goes on from the
 * transcript. When this control plane stops, the jobs it runs are left as they are (workspace kept)
 * for the next one to resume; where another replica can adopt their sandboxes
 * ({@link SandboxLauncher#handsOverOnStop()}), those are left running for it, as on a lost lease.
 *
 * <p>The loop starts as soon as the sandbox is launched: its first model call overlaps the daemon's
 * start ({@link SandboxStart}), and the job turns {@code running} when the daemon has attached.
 */
public final class JobRunner {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** Room for the zip's own directory and headers beyond the workspace's size. */
    private static final long ZIP_SLACK_MB = 16;
    private static final Duration ARCHIVE_TIMEOUT = Duration.ofMinutes(10);
    /** A daemon between two Attach streams when its job ends gets this long to come back for the partial zip. */
    private static final Duration PARTIAL_REATTACH = Duration.ofSeconds(5);

    private final JobStore store;
    private final SandboxLauncher launcher;
    private final WarmPool pool;
    private final SessionRegistry sessions;
    private final JobTokens tokens;
    private final WorkspaceArchiver archiver;
    private final WorkspaceSeeder seeder;
    private final Checkpointer checkpointer;
    private final AgentLoop agent;
    private final Path workspaces;
    private final JobTracer tracer;
    /**
     * Sandboxes starting at once, from launch to their daemon's Attach. A daemon's start is CPU-bound:
     * hundreds started together on a few cores each get a sliver of one, all start slowly and some
     * miss the ready timeout; a few at a time each start as fast as alone, and the rest wait their
     * turn in {@code starting}, their ready timeout counted from their own launch.
     */
    private final Semaphore coldStarts = new Semaphore(Math.max(2, 2 * Runtime.getRuntime().availableProcessors()));
    private final Duration readyTimeout;
    private final Duration tokenLifetime;
    private volatile boolean stopping;
    private final Set<String> handedOver = ConcurrentHashMap.newKeySet();
    /** The sandboxes of the jobs running here, so that a job handed over loses its sandbox at once. */
    private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();
    /**
     * Jobs whose next owner adopts their sandbox: it outlives this replica, is recorded, and the job
     * runs. The next owner of a job still starting starts a sandbox of its own, so that one is closed.
     */
    private final Set<String> adoptable = ConcurrentHashMap.newKeySet();

    public JobRunner(JobStore store, SandboxLauncher launcher, WarmPool pool, SessionRegistry sessions,
            JobTokens tokens, ArtifactStore artifacts, AgentLoop agent, Path workspaces, Duration readyTimeout,
            Duration tokenLifetime, SeedLimits seedLimits, JobTracer tracer) {
        this.store = requireNonNull(store, "store");
        this.launcher = requireNonNull(launcher, "launcher");
        this.pool = requireNonNull(pool, "pool");
        this.sessions = requireNonNull(sessions, "sessions");
        this.tokens = requireNonNull(tokens, "tokens");
        this.archiver = new WorkspaceArchiver(requireNonNull(artifacts, "artifacts"));
        this.seeder = new WorkspaceSeeder(artifacts, seedLimits);
        this.checkpointer = new Checkpointer(artifacts, store.sessions());
        this.agent = requireNonNull(agent, "agent");
        this.workspaces = requireNonNull(workspaces, "workspaces");
        this.readyTimeout = requireNonNull(readyTimeout, "readyTimeout");
        this.tokenLifetime = requireNonNull(tokenLifetime, "tokenLifetime");
        this.tracer = requireNonNull(tracer, "tracer");
    }

    /** From now on, jobs interrupted are left for another start to resume, not failed. */
    void stopping() {
        stopping = true;
    }

    /** Whether another replica can go on with this one's jobs in their sandboxes when it stops. */
    boolean handsOverOnStop() {
        return launcher.handsOverOnStop();
    }

    /**
     * This replica lost the job's lease, or stops and lets the job go: the job is another's now; stop
     * it here without failing it.
     * At once, not when the job's thread gets to it (it may be waiting for a Redis that does not
     * answer): a sandbox the next owner can adopt is left running and its daemon's stream dropped
     * (it redials another replica); any other is killed, and the next owner starts one of its own.
     * Returns false if it was handed over already.
     */
    boolean handOver(String jobId) {
        if (!handedOver.add(jobId)) {
            return false;
        }
        var sandbox = sandboxes.get(jobId);
        if (sandbox != null && adoptable.contains(jobId)) {
            leaveToNextOwner(jobId, sandbox);
        } else if (sandbox != null) {
            Thread.ofVirtual().name("hand-over-" + jobId).start(sandbox::close);
        }
        return true;
    }

    /** Leaves a sandbox that outlives this replica running: its daemon's stream is dropped, it is not told to stop. */
    private void leaveToNextOwner(String jobId, Sandbox sandbox) {
        sessions.drop(jobId, "this control plane no longer drives job " + jobId + "; another takes it over");
        sandbox.leave();
    }

    private boolean leaving(String jobId) {
        return stopping || handedOver.contains(jobId);
    }

    /**
     * Runs a job that this replica has just moved to {@code starting}, or resumes one it took over in
     * {@code running}; under the job's trace, which Redis keeps from its schedule.
     */
    void run(String jobId) {
        try (var trace = tracer.run(jobId, traceparentOf(jobId))) {
            run(jobId, trace);
        }
    }

    /** A job whose trace cannot be read is not failed for it: it runs under a trace of its own. */
    private @Nullable String traceparentOf(String jobId) {
        try {
            return store.traceparentOf(jobId).orElse(null);
        } catch (RuntimeException e) {
            log.warn("Job {}: could not read its trace context ({}); it gets a trace of its own", jobId, e.getMessage());
            return null;
        }
    }

    private void run(String jobId, JobRun trace) {
        var workspace = workspaces.resolve(jobId);
        sessions.expect(jobId);
        Sandbox sandbox = null;
        SandboxStart start = null;
        JobDeadline deadline = null;
        try {
            var job = store.find(jobId).orElseThrow();
            var resuming = job.status() == JobStatus.RUNNING;
            if (job.startedAt() == null) {
                trace.queued(job.createdAt());
            } else {
                // It ran before: taken over from another replica, or going on after a pause or an end.
                trace.resumed();
            }
            var adopted = resuming ? adopt(job) : null;
            var workspaceHere = Files.isDirectory(workspace);
            var checkpointed = job.session().checkpointStep() >= 0;
            if (resuming && adopted == null && !workspaceHere && !checkpointed) {
                fail(jobId, "the job's workspace is gone, so it cannot be resumed after its control plane stopped",
                        KeptWorkspace.Nothing.lost("its workspace was gone"));
                return;
            }
            if (resuming) {
                log.info("Resuming job {} from its transcript{}", jobId, adopted != null ? ", in its own sandbox" : "");
            }
            Files.createDirectories(workspace);
            var expiry = Instant.now().plus(tokenLifetime);
            // A resumed job's sandbox starts on its workspace as it was; a new one's may be warm already.
            sandbox = resuming ? adopted : pool.claim(jobId, workspace, job.sandbox(), expiry).orElse(null);
            BooleanSupplier toRunning = () -> {
                var runs = resuming || store.transition(jobId, JobStatus.RUNNING, null, Map.of()).applied();
                var tracked = sandboxes.get(jobId);
                if (runs && tracked != null && tracked.reference().isPresent()) {
                    adoptable.add(jobId);
                }
                return runs;
            };
            // The daemon is awaited beside the loop: the model's first answer comes while a cold daemon starts.
            if (sandbox == null) {
                coldStarts.acquire();
                boolean waiting = false;
                try {
                    var token = tokens.issue(jobId, expiry);
                    sandbox = launch(job, token, workspace);
                    track(jobId, sandbox, adopted != null);
                    start = SandboxStart.await(jobId, sandbox, sessions, readyTimeout, attached(coldStarts::release),
                            toRunning);
                    waiting = true;
                } finally {
                    if (!waiting) {
                        coldStarts.release();
                    }
                }
            } else {
                track(jobId, sandbox, adopted != null);
                start = SandboxStart.await(jobId, sandbox, sessions, readyTimeout, attached(() -> { }), toRunning);
            }
            var inSandbox = new SandboxToolRunner(jobId, sandbox, sessions, tracer);
            if (seeder.due(jobId)) {
                // The first step must see the files: the loop waits for the sandbox and the seed.
                start.ready();
                var refused = seeder.seed(job, inSandbox);
                if (refused.isPresent()) {
                    fail(jobId, "the workspace could not be seeded from its archive or repository: " + refused.get(),
                            KeptWorkspace.Nothing.noFiles("its workspace was never seeded"));
                    return;
                }
            }
            // A job resumed in its own sandbox, or on a workspace this host kept, goes on with those files;
            // one whose files went with its sandbox goes on from its newest checkpoint.
            var onItsFiles = adopted != null || (resuming && workspaceHere && sandbox.workspaceOnHost().isPresent());
            if (resuming && !onItsFiles && !checkpointed) {
                fail(jobId, "the job's workspace went with its sandbox and it has no checkpoint, so it cannot be resumed",
                        KeptWorkspace.Nothing.lost("its workspace was gone"));
                return;
            }
            var restoring = restoreStep(job, onItsFiles);
            if (restoring != null) {
                // A job that goes on after a pause, an end, a rollback or a fork: its files come back first.
                start.ready();
                var refused = checkpointer.restore(job, restoring, inSandbox);
                if (refused.isPresent()) {
                    fail(jobId, "the job's files could not be put back as they were after step " + restoring + ": "
                            + refused.get(), KeptWorkspace.Nothing.lost("its checkpoint could not be restored"));
                    return;
                }
            }
            var starting = start;
            var sameSandbox = adopted != null;
            // Once this control plane stops, a result may be the stop's doing (a broken stream): it is
            // not recorded, and the call counts as interrupted for the next start to resume.
            ToolRunner tools = new ToolRunner() {
                @Override
                public void awaitSandbox() throws SandboxLostException, InterruptedException {
                    starting.ready();
                }

                @Override
                public ToolResult run(ToolCall call, Duration timeout, Consumer<ToolEvent> events)
                        throws SandboxLostException, TimeoutException, InterruptedException {
                    starting.ready();
                    var result = inSandbox.run(call, timeout, events);
                    if (leaving(jobId)) {
                        throw new InterruptedException("the job is leaving this control plane");
                    }
                    return result;
                }

                @Override
                public boolean keptCalls() {
                    return sameSandbox;
                }

                @Override
                public void checkpoint(int step) throws SandboxLostException, InterruptedException {
                    starting.ready();
                    checkpointer.take(job, step, inSandbox);
                    if (leaving(jobId)) {
                        throw new InterruptedException("the job is leaving this control plane");
                    }
                }
            };
            deadline = JobDeadline.start(job.sandbox().timeout(), job.startedAt() != null ? job.startedAt() : Instant.now());
            var outcome = agent.run(job, tools);
            deadline.close();
            if (Thread.interrupted()) {
                // Cancelled or out of time as the loop ended: that, not the loop's outcome, is the job's end.
                throw new InterruptedException();
            }
            switch (outcome) {
                case Outcome.Finished finished -> complete(jobId, tools, finished.summary(), maxZipBytes(job));
                case Outcome.Failed failed -> failKeeping(jobId, failed.reason(), sandbox);
                case Outcome.Paused paused -> {
                    var refused = pause(job, paused, inSandbox);
                    if (refused.isPresent()) {
                        failKeeping(jobId, "the job could not be paused: its workspace could not be kept ("
                                + refused.get() + ")", sandbox);
                    }
                }
            }
        } catch (LaunchException e) {
            fail(jobId, "the sandbox could not be started: " + e.getMessage(),
                    KeptWorkspace.Nothing.noFiles("its sandbox never started"));
        } catch (SandboxLostException e) {
            failKeeping(jobId, "the sandbox was lost: " + e.getMessage(), sandbox);
        } catch (LeaseLostException e) {
            // Redis refused a write: another replica may own the job now. Nothing more is written here.
            handOver(jobId);
            log.warn("Job {} is left to its next owner: {}", jobId, e.getMessage());
        } catch (InterruptedException e) {
            // Out of time, cancelled (then the job is already cancelled and only its zip is recorded), or shutting down.
            stop(deadline);
            failKeeping(jobId, deadline != null && deadline.expired() ? deadline.reason()
                    : "the control plane shut down while the job ran", sandbox);
        } catch (Exception e) {
            stop(deadline);
            if (deadline != null && deadline.expired()) {
                failKeeping(jobId, deadline.reason(), sandbox);
            } else {
                log.error("Job {} failed unexpectedly", jobId, e);
                failKeeping(jobId, "internal error: " + e.getMessage(), sandbox);
            }
        } finally {
            // Clean up even when interrupted: the sandbox must not outlive its job.
            if (deadline != null) {
                deadline.close();
            }
            Thread.interrupted();
            if (start != null) {
                start.close();
            }
            sandboxes.remove(jobId);
            var kept = handedOver.contains(jobId) && sandbox != null && adoptable.contains(jobId);
            if (kept) {
                leaveToNextOwner(jobId, sandbox);
            } else {
                sessions.forget(jobId, "the job has ended");
                if (sandbox != null) {
                    sandbox.close();
                }
            }
            if (stopping && handedOver.contains(jobId)) {
                sayHandedOver(jobId, kept);
            }
            if (idle(jobId)) {
                // What a paused job goes on from is its checkpoint, in whichever sandbox comes next.
                deleteRecursively(workspace);
            }
            checkpointer.forget(jobId);
            adoptable.remove(jobId);
            handedOver.remove(jobId);
        }
    }

    /** Launches the job's sandbox in a span whose traceparent the spec carries (into Nomad's dispatch meta). */
    private Sandbox launch(Job job, String token, Path workspace) throws LaunchException {
        var span = tracer.launch(launcher.getClass().getSimpleName());
        try (var scope = span.makeCurrent()) {
            return launcher.launch(new SandboxSpec(job.id(), token, workspace, job.owner(), job.task(), job.sandbox(),
                    Traceparent.of(span)));
        } catch (LaunchException | RuntimeException e) {
            JobTracer.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    /** {@code settled}, after the span of the wait for the daemon (started now) has ended. */
    private Runnable attached(Runnable settled) {
        var span = tracer.attach();
        return () -> {
            span.end();
            settled.run();
        };
    }

    /**
     * Watches the job's sandbox from here; one that outlives this replica is recorded first (before its
     * daemon can attach and the job run), so whoever takes the running job over adopts it by that.
     */
    private void track(String jobId, Sandbox sandbox, boolean adopted) {
        if (!adopted) {
            sandbox.reference().ifPresent(reference -> store.recordSandbox(jobId, reference));
        }
        sandboxes.put(jobId, sandbox);
    }

    /** Tells watchers the job was let go on a clean stop, not lost; written under the lease still held. */
    private void sayHandedOver(String jobId, boolean sandboxKept) {
        try {
            store.appendEvent(jobId, JobEvent.newBuilder().setHandedOver(HandedOver.newBuilder()
                    .setReason("the control plane driving the job stopped; another replica takes it over")
                    .setSandboxKept(sandboxKept)));
            log.info("Job {} handed over{}", jobId, sandboxKept ? " with its sandbox running" : "");
        } catch (RuntimeException e) {
            log.warn("Job {} handed over, but that could not be recorded: {}", jobId, e.getMessage());
        }
    }

    /**
     * The sandbox of a job taken over from another replica, if it outlives that replica and still
     * runs; null for a new one (a local sandbox died with its replica, or the recorded one has ended).
     */
    private @Nullable Sandbox adopt(Job job) {
        var reference = store.sandboxOf(job.id());
        if (reference.isEmpty()) {
            return null;
        }
        var adopted = launcher.adopt(job.id(), reference.get(), job.sandbox()).orElse(null);
        if (adopted == null) {
            log.info("Job {}: its sandbox {} has ended; it resumes in a new one", job.id(), reference.get());
        }
        return adopted;
    }

    /**
     * The checkpoint a job's sandbox starts from: the one a pause, a rollback or a fork named, or, for
     * a job that goes on without its files (after an end, or its sandbox gone with them), its newest;
     * null for a new job, or one that goes on with its files.
     */
    private static @Nullable Integer restoreStep(Job job, boolean onItsFiles) {
        var session = job.session();
        if (session.restoreStep() != null) {
            return session.restoreStep();
        }
        return !onItsFiles && session.checkpointStep() >= 0 ? session.checkpointStep() : null;
    }

    /**
     * Pauses the job after a step at its user's word (and rolls it back, if asked): its workspace kept
     * as that step's checkpoint first, if it is not yet. Empty when paused (or cancelled meanwhile), else
     * why the workspace could not be kept.
     */
    private Optional<String> pause(Job job, Outcome.Paused paused, ToolRunner sandbox)
            throws SandboxLostException, InterruptedException {
        var jobId = job.id();
        var kept = store.find(jobId).map(now -> now.session().checkpointStep()).orElse(-1);
        if (kept != paused.step()) {
            var refused = checkpointer.take(job, paused.step(), sandbox);
            if (refused.isPresent()) {
                return refused;
            }
        }
        var fields = Map.of("restore_step", Integer.toString(paused.step()), "pause_requested", "0", "rollback_to", "");
        if (store.transition(jobId, JobStatus.PAUSED, null, fields).applied()) {
            log.info("Job {} paused after step {}", jobId, paused.step());
            if (paused.rollbackTo() != null) {
                store.sessions().rollback(jobId, paused.rollbackTo());
            }
        }
        return Optional.empty();
    }

    /** Whether the job has ended, is paused (or is gone); a job whose state Redis does not tell keeps its workspace. */
    private boolean idle(String jobId) {
        try {
            return store.find(jobId).map(job -> job.status().isTerminal() || job.status() == JobStatus.PAUSED).orElse(true);
        } catch (RuntimeException e) {
            log.warn("Keeping the workspace of job {}: could not read its state ({})", jobId, e.getMessage());
            return false;
        }
    }

    /** Stops the job's deadline and forgets an interrupt, so that keeping what the job left is not cut short. */
    private static void stop(@Nullable JobDeadline deadline) {
        if (deadline != null) {
            deadline.close();
        }
        Thread.interrupted();
    }

    /**
     * A zip holds no more than its workspace, which its disk caps, but for what a zip stores whole:
     * hard links and sparse files. Past this the upload stops, so the host never stores more.
     */
    private static long maxZipBytes(Job job) {
        return (job.sandbox().diskMb() + ZIP_SLACK_MB) * (1L << 20);
    }

    private void complete(String jobId, ToolRunner tools, String summary, long maxZipBytes) throws Exception {
        Archived archived;
        var span = tracer.archive(false);
        try (var scope = span.makeCurrent()) {
            archived = archiver.fromDaemon(jobId, "archive", tools, ARCHIVE_TIMEOUT, maxZipBytes, true);
        } finally {
            span.end();
        }
        switch (archived) {
            case Archived.Stored stored -> {
                var kept = new KeptWorkspace.Zip(stored.bytes(), stored.sha256(), false);
                // The zip is stored: say so before the terminal status, which must be the job's last event
                // (a watcher stops once the job has ended and it has seen every event).
                announce(jobId, kept);
                var fields = new HashMap<>(JobStore.fieldsOf(kept));
                fields.put("summary", summary);
                if (!store.transition(jobId, JobStatus.COMPLETE, null, fields).applied()) {
                    // Cancelled meanwhile: it keeps what it made, as a partial zip, and watchers are told so.
                    var partial = new KeptWorkspace.Zip(stored.bytes(), stored.sha256(), true);
                    announce(jobId, partial);
                    store.recordKept(jobId, partial);
                }
            }
            case Archived.Refused refused -> fail(jobId, refused.reason(), KeptWorkspace.Nothing.lost(refused.reason()));
            case Archived.Empty empty -> throw new IllegalStateException("a complete job's zip is kept even when empty");
        }
    }

    /**
     * Fails the job and keeps what its workspace holds as a partial zip; for a job already cancelled,
     * only keeps it. Bounded: a zip that takes longer than {@link KeptWorkspace#PARTIAL_ZIP_TIME} is not kept.
     */
    private void failKeeping(String jobId, String reason, @Nullable Sandbox sandbox) {
        if (leaving(jobId)) {
            log.info("Job {} is left for its next owner to resume ({})", jobId, reason);
            return;
        }
        var job = store.find(jobId).orElse(null);
        if (job == null || job.status() == JobStatus.COMPLETE) {
            return;
        }
        KeptWorkspace kept;
        var span = tracer.archive(true);
        try (var scope = span.makeCurrent()) {
            kept = keep(job, sandbox);
        } finally {
            span.end();
        }
        if (leaving(jobId)) {
            log.info("Job {} is left for its next owner to resume ({})", jobId, reason);
            return;
        }
        fail(jobId, reason, kept);
    }

    /** Fails the job with what it keeps; a job that has already ended (cancelled) only gets what it keeps. */
    private void fail(String jobId, String reason, KeptWorkspace kept) {
        if (leaving(jobId)) {
            log.info("Job {} is left for its next owner to resume ({})", jobId, reason);
            return;
        }
        announce(jobId, kept);
        JobTracer.failed(Span.current(), reason);
        if (store.transition(jobId, JobStatus.ERROR, reason, JobStore.fieldsOf(kept)).applied()) {
            log.info("Job {} failed: {}", jobId, reason);
        } else {
            store.recordKept(jobId, kept);
        }
    }

    /** Tells watchers a zip is stored (before the terminal status when the job has not ended yet). */
    private void announce(String jobId, KeptWorkspace kept) {
        if (kept instanceof KeptWorkspace.Zip zip) {
            store.appendEvent(jobId, JobEvent.newBuilder().setArtifactReady(ArtifactReady.newBuilder()
                    .setDownloadUrl("/download/" + jobId).setBytes(zip.bytes()).setSha256(zip.sha256())
                    .setPartial(zip.partial())));
        }
    }

    /**
     * Zips what a job that did not complete left: through its daemon while it is attached, else from
     * the host for a local sandbox that has ended. A sandbox that is gone with its files keeps nothing.
     */
    private KeptWorkspace keep(Job job, @Nullable Sandbox sandbox) {
        if (sandbox == null) {
            return KeptWorkspace.Nothing.noFiles("its sandbox never started");
        }
        var jobId = job.id();
        Thread.interrupted();
        var timeout = KeptWorkspace.PARTIAL_ZIP_TIME;
        var started = Instant.now();
        try {
            Archived archived = null;
            if (sandbox.exitReason().isEmpty()) {
                var tools = new SandboxToolRunner(jobId, sandbox, sessions, PARTIAL_REATTACH, tracer);
                try {
                    archived = archiver.fromDaemon(jobId, "archive-partial", tools, timeout, maxZipBytes(job), false);
                } catch (SandboxLostException e) {
                    log.info("Job {}: no daemon to zip what it left ({})", jobId, e.getMessage());
                }
            }
            if (archived == null) {
                // From the host only once every process of the sandbox is gone, so nothing moves under the zip.
                var onHost = sandbox.workspaceOnHost();
                if (sandbox.exitReason().isEmpty()) {
                    return KeptWorkspace.Nothing.lost("its sandbox's daemon did not answer within "
                            + WorkspaceArchiver.words(PARTIAL_REATTACH));
                }
                if (onHost.isEmpty()) {
                    return KeptWorkspace.Nothing.lost("its sandbox had ended, and its files with it");
                }
                var left = timeout.minus(Duration.between(started, Instant.now()));
                archived = archiver.fromHost(jobId, onHost.get(), left.isNegative() ? Duration.ZERO : left, maxZipBytes(job));
            }
            return switch (archived) {
                case Archived.Stored stored -> {
                    log.info("Job {} keeps a partial zip of {} bytes", jobId, stored.bytes());
                    yield new KeptWorkspace.Zip(stored.bytes(), stored.sha256(), true);
                }
                case Archived.Empty empty -> KeptWorkspace.Nothing.noFiles("its workspace was empty");
                case Archived.Refused refused -> KeptWorkspace.Nothing.lost(refused.reason());
            };
        } catch (InterruptedException e) {
            return KeptWorkspace.Nothing.lost("the control plane stopped while zipping it");
        } catch (IOException | RuntimeException e) {
            log.warn("Job {}: what it left could not be zipped", jobId, e);
            return KeptWorkspace.Nothing.lost("it could not be zipped (" + e.getMessage() + ")");
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log.warn("Could not remove workspace {}: {}", root, e.getMessage());
        }
    }
}
