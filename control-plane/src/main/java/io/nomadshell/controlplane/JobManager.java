package io.nomadshell.controlplane;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.artifact.KeptFile;
import io.nomadshell.controlplane.artifact.KeptWorkspace;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxRequest;
import io.nomadshell.controlplane.quota.KeyUsage;
import io.nomadshell.controlplane.quota.Quotas;
import io.nomadshell.controlplane.seed.GitSource;
import io.nomadshell.controlplane.seed.Repositories;
import io.nomadshell.controlplane.seed.SeedSource;
import io.nomadshell.controlplane.seed.Uploads;
import io.nomadshell.controlplane.store.EventFanout;
import io.nomadshell.controlplane.store.JobSignals;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.SessionStore;
import io.nomadshell.controlplane.trace.JobTracer;
import io.nomadshell.controlplane.trace.Traceparent;
import io.nomadshell.controlplane.tunnel.KeptFiles;
import io.nomadshell.controlplane.webhook.Webhooks;
import io.nomadshell.proto.v1.JobEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The operations users call on jobs, checked at the door. A job is visible only to its owner: to
 * anyone else it does not exist.
 */
public final class JobManager {
    /** The largest task accepted, in UTF-8 bytes. */
    public static final int MAX_TASK_BYTES = 64 * 1024;
    private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7e]{1,128}");
    private static final int MAX_PAGE_SIZE = 100;
    /** The largest message to a job, in UTF-8 bytes. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024;
    /** How long a pause or a resume waits for the runner of a job that just stopped to let it go. */
    private static final Duration WIND_UP = Duration.ofSeconds(20);
    /** Far above a screenshot of the largest desktop; a file past it is not one (and is not read whole). */
    private static final int MAX_SCREENSHOT_BYTES = 32 << 20;

    private final JobStore store;
    private final JobSignals signals;
    private final ArtifactStore artifacts;
    private final KeptFiles files;
    private final ResourcePolicy resources;
    private final EventFanout events;
    private final Uploads uploads;
    private final Repositories repositories;
    private final Quotas quotas;
    private final JobTracer tracer;
    private final Webhooks webhooks;

    JobManager(JobStore store, JobSignals signals, ArtifactStore artifacts, KeptFiles files, ResourcePolicy resources,
            Uploads uploads, Repositories repositories, Quotas quotas, JobTracer tracer, Webhooks webhooks) {
        this.webhooks = requireNonNull(webhooks, "webhooks");
        this.store = requireNonNull(store, "store");
        this.signals = requireNonNull(signals, "signals");
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.files = requireNonNull(files, "files");
        this.resources = requireNonNull(resources, "resources");
        this.events = new EventFanout(store, signals);
        this.uploads = requireNonNull(uploads, "uploads");
        this.repositories = requireNonNull(repositories, "repositories");
        this.quotas = requireNonNull(quotas, "quotas");
        this.tracer = requireNonNull(tracer, "tracer");
    }

    /** Where uploaded seed archives are received and kept. */
    public Uploads uploads() {
        return uploads;
    }

    /** How long fetching a git seed may take (Schedule waits for it). */
    public Duration seedFetchTimeout() {
        return repositories.timeout();
    }

    /** {@link #schedule(String, String, SandboxRequest, String, SeedSource)} with the default sandbox, unseeded. */
    public Job schedule(String owner, String task, @Nullable String idempotencyKey) {
        return schedule(owner, task, SandboxRequest.DEFAULTS, idempotencyKey, null);
    }

    /** {@link #schedule(String, String, SandboxRequest, String, SeedSource, CallbackRequest)} without a callback. */
    public Job schedule(String owner, String task, SandboxRequest sandbox, @Nullable String idempotencyKey,
            @Nullable SeedSource seed) {
        return schedule(owner, task, sandbox, idempotencyKey, seed, CallbackRequest.NONE);
    }

    /**
     * What a Schedule asks to be told: its callback_url and callback_events, as given (empty: none).
     */
    public record CallbackRequest(String url, String events) {
        public static final CallbackRequest NONE = new CallbackRequest("", "");

        public CallbackRequest {
            requireNonNull(url, "url");
            requireNonNull(events, "events");
        }
    }

    /**
     * Queues a new job whose sandbox gets {@code sandbox} within this server's caps and its owner's
     * key's, if the key is within its limits; or returns the one an earlier call with the same
     * idempotency key created. With a {@code seed}, the job's seed
     * archive is in place before the job exists (so no replica can start it unseeded): the owner's
     * upload is moved there, or the git repository fetched into it. A retry that finds the earlier
     * job leaves the upload as it was (and drops what it fetched). With a {@code callback} URL, checked
     * here against the webhook allowlist, the job's status changes are POSTed there ({@link Webhooks}).
     * The schedule is the root span of the job's trace, which its runs go on with.
     */
    public Job schedule(String owner, String task, SandboxRequest sandbox, @Nullable String idempotencyKey,
            @Nullable SeedSource seed, CallbackRequest callback) {
        requireNonNull(owner, "owner");
        requireNonNull(task, "task");
        requireNonNull(sandbox, "sandbox");
        var span = tracer.schedule(owner);
        try (var scope = span.makeCurrent()) {
            var job = schedule(owner, task, sandbox, idempotencyKey, seed, requireNonNull(callback, "callback"),
                    Traceparent.of(span));
            span.setAttribute(JobTracer.JOB_ID, job.id());
            return job;
        } catch (RuntimeException e) {
            JobTracer.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    private Job schedule(String owner, String task, SandboxRequest sandbox, @Nullable String idempotencyKey,
            @Nullable SeedSource seed, CallbackRequest callback, String traceparent) {
        if (task.isBlank()) {
            throw new JobException(Reason.INVALID_ARGUMENT, "the task is empty: say what the agent should build");
        }
        int bytes = task.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_TASK_BYTES) {
            throw new JobException(Reason.INVALID_ARGUMENT,
                    "the task is " + bytes + " bytes; the limit is " + MAX_TASK_BYTES + " bytes (64 KiB)");
        }
        if (idempotencyKey != null && !IDEMPOTENCY_KEY.matcher(idempotencyKey).matches()) {
            throw new JobException(Reason.INVALID_ARGUMENT,
                    "the idempotency key must be 1 to 128 printable ASCII characters without spaces");
        }
        var quota = quotas.of(owner);
        var granted = quota.narrow(resources, sandbox).grant(sandbox);
        var accepted = webhooks.accept(owner, callback.url(), callback.events());
        var more = accepted == null ? Map.<String, String>of() : accepted.fields();
        var id = JobIds.next();
        if (seed == null) {
            return get(owner, store.create(id, owner, task, granted, Instant.now(), idempotencyKey, quota, traceparent,
                    more));
        }
        var seedPath = artifacts.seedPath(id);
        long disk = granted.diskMb() * 1024L * 1024L;
        Runnable undo = switch (seed) {
            case SeedSource.FromUpload upload -> {
                uploads.claim(owner, upload.uploadId(), disk, seedPath);
                yield () -> uploads.giveBack(owner, upload.uploadId(), seedPath);
            }
            case GitSource git -> {
                repositories.fetch(git, disk, seedPath);
                // The job never existed (or an earlier one did): nothing else of this id is kept.
                yield () -> {
                    try {
                        artifacts.delete(id);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
            }
        };
        String created;
        try {
            created = store.create(id, owner, task, granted, Instant.now(), idempotencyKey, quota, traceparent, more);
        } catch (RuntimeException e) {
            undo.run();
            throw e;
        }
        if (!created.equals(id)) {
            undo.run();
        }
        return get(owner, created);
    }

    public Job get(String owner, String jobId) {
        requireNonNull(owner, "owner");
        requireNonNull(jobId, "jobId");
        if (!JobIds.isWellFormed(jobId)) {
            throw notFound(jobId);
        }
        return visible(owner, jobId, store.find(jobId));
    }

    /**
     * {@link #get} without holding a thread while Redis answers: completes on {@code executor} with
     * the job, or exceptionally with the same {@link JobException} {@code get} throws.
     */
    public CompletableFuture<Job> getAsync(String owner, String jobId, Executor executor) {
        requireNonNull(owner, "owner");
        requireNonNull(jobId, "jobId");
        requireNonNull(executor, "executor");
        if (!JobIds.isWellFormed(jobId)) {
            return CompletableFuture.failedFuture(notFound(jobId));
        }
        return store.findAsync(jobId, executor).toCompletableFuture().thenApply(found -> visible(owner, jobId, found));
    }

    /** The job if {@code owner} may see it; to anyone else it does not exist. */
    private static Job visible(String owner, String jobId, Optional<Job> found) {
        return found.filter(job -> job.owner().equals(owner)).orElseThrow(() -> notFound(jobId));
    }

    /** One page of the owner's jobs, newest first; the token is where the next page starts. */
    public Page list(String owner, int pageSize, String pageToken) {
        if (pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
            throw new JobException(Reason.INVALID_ARGUMENT, "page_size must be between 1 and " + MAX_PAGE_SIZE);
        }
        int size = pageSize == 0 ? 20 : pageSize;
        long offset;
        try {
            offset = pageToken.isEmpty() ? 0 : Long.parseLong(pageToken);
        } catch (NumberFormatException e) {
            offset = -1;
        }
        if (offset < 0) {
            throw new JobException(Reason.INVALID_ARGUMENT, "page_token is not one this server gave out");
        }
        var page = store.listByOwner(owner, offset, size);
        return new Page(page.jobs(), page.more() ? Long.toString(offset + size) : "");
    }

    /**
     * Cancels a job that has not ended; its sandbox is killed by the replica that runs it, which first
     * zips what a job that had a sandbox left (watchers wait for that zip, a bounded time).
     */
    public Job cancel(String owner, String jobId) {
        var job = get(owner, jobId);
        var hadSandbox = job.status() == JobStatus.STARTING || job.status() == JobStatus.RUNNING;
        var result = store.cancel(jobId, hadSandbox
                ? JobStore.artifactDueBy(Instant.now().plus(KeptWorkspace.PARTIAL_ZIP_AFTER_CANCEL)) : Map.of());
        if (!result.applied()) {
            var status = result.previous() == null ? job.status() : result.previous();
            throw new JobException(Reason.FAILED_PRECONDITION,
                    "job " + jobId + " has already ended (" + status.wireName() + ")");
        }
        signals.publishCancel(jobId);
        return get(owner, jobId);
    }

    /**
     * Says {@code text} to the job's agent: one that runs sees it at its next step; a paused or ended
     * one goes on with it (back to pending; a runner still winding it up puts it back itself once done).
     */
    public Job say(String owner, String jobId, String text) {
        requireNonNull(text, "text");
        var job = get(owner, jobId);
        if (text.isBlank()) {
            throw new JobException(Reason.INVALID_ARGUMENT, "the message is empty: say what the agent should do");
        }
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_MESSAGE_BYTES) {
            throw new JobException(Reason.INVALID_ARGUMENT,
                    "the message is " + bytes + " bytes; the limit is " + MAX_MESSAGE_BYTES + " bytes (16 KiB)");
        }
        var found = store.sessions().postMessage(job.id(), text);
        if (!found.equals("pending") && !found.equals("starting") && !found.equals("running") && woundUp(jobId)) {
            store.goOn(job.id());
        }
        return get(owner, jobId);
    }

    /**
     * Pauses a job: a queued one at once, a starting or running one at the end of its current step.
     * A paused job stays as it is; one that has ended cannot be paused.
     */
    public Job pause(String owner, String jobId) {
        var job = get(owner, jobId);
        if (job.status() == JobStatus.PENDING && store.transition(jobId, JobStatus.PAUSED, null, Map.of()).applied()) {
            return get(owner, jobId);
        }
        var found = store.sessions().requestPause(jobId, null);
        if (found.equals("starting") || found.equals("running") || found.equals("paused")) {
            return get(owner, jobId);
        }
        throw new JobException(Reason.FAILED_PRECONDITION, "job " + jobId + " has ended (" + found
                + "): there is nothing to pause; send it a message to go on");
    }

    /** Goes on with a paused job, in a new sandbox from its checkpoint. */
    public Job resume(String owner, String jobId) {
        var job = get(owner, jobId);
        if (job.status() != JobStatus.PAUSED) {
            throw new JobException(Reason.FAILED_PRECONDITION, "job " + jobId + " is " + job.status().wireName()
                    + ", not paused" + (job.status().isTerminal() ? ": send it a message to go on" : ""));
        }
        if (!woundUp(jobId)) {
            throw stillWindingUp(jobId, "paused");
        }
        store.goOn(jobId);
        return get(owner, jobId);
    }

    /**
     * Takes the job's files and conversation back to just after {@code step} and leaves it paused; a
     * job that runs is paused first, at the end of its current step, and then rolled back.
     */
    public Job rollback(String owner, String jobId, int step) {
        var job = get(owner, jobId);
        requireCheckpoint(jobId, step);
        if (job.status() == JobStatus.PENDING) {
            store.transition(jobId, JobStatus.PAUSED, null, Map.of());
        }
        var found = store.sessions().requestPause(jobId, step);
        if (found.equals("starting") || found.equals("running")) {
            return get(owner, jobId);
        }
        if (!woundUp(jobId)) {
            throw stillWindingUp(jobId, found);
        }
        if (!found.equals("paused") && !store.transition(jobId, JobStatus.PAUSED, null, Map.of()).applied()) {
            throw new JobException(Reason.FAILED_PRECONDITION, "job " + jobId + " changed while it was being rolled back"
                    + " (it is " + get(owner, jobId).status().wireName() + "): try again");
        }
        if (!store.sessions().rollback(jobId, step)) {
            throw new JobException(Reason.FAILED_PRECONDITION, "job " + jobId + " went on while it was being rolled back"
                    + ": try again");
        }
        return get(owner, jobId);
    }

    /**
     * A new job (new id, same owner) from the files and conversation of {@code jobId} just after
     * {@code step}, queued at once; with {@code text}, its first message. The original is left as it is.
     */
    public Job fork(String owner, String jobId, int step, @Nullable String text) {
        var source = get(owner, jobId);
        requireCheckpoint(jobId, step);
        if (text != null && text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES) {
            throw new JobException(Reason.INVALID_ARGUMENT, "the fork's message is over " + MAX_MESSAGE_BYTES + " bytes (16 KiB)");
        }
        var from = artifacts.checkpoints(jobId);
        if (!from.exists()) {
            throw new JobException(Reason.UNAVAILABLE, "the checkpoints of job " + jobId + " are not on this server");
        }
        var id = JobIds.next();
        var to = artifacts.checkpoints(id);
        try {
            from.copyTo(to);
            boolean forked;
            try {
                forked = store.sessions().fork(source, id, step, text == null || text.isBlank() ? null : text,
                        Instant.now(), quotas.of(owner));
            } catch (JobException overQuota) {
                artifacts.delete(id);
                throw overQuota;
            }
            if (!forked) {
                artifacts.delete(id);
                throw notCheckpointed(jobId, step);
            }
        } catch (IOException e) {
            throw new JobException(Reason.UNAVAILABLE, "the checkpoints of job " + jobId + " could not be copied: "
                    + e.getMessage());
        }
        return get(owner, id);
    }

    /** The job's checkpoints, oldest first. */
    public List<SessionStore.Checkpoint> checkpoints(String owner, String jobId) {
        get(owner, jobId);
        return store.sessions().checkpoints(jobId);
    }

    private void requireCheckpoint(String jobId, int step) {
        if (step < 0 || store.sessions().checkpoint(jobId, step).isEmpty()) {
            throw notCheckpointed(jobId, step);
        }
    }

    private JobException notCheckpointed(String jobId, int step) {
        var steps = store.sessions().checkpoints(jobId).stream().map(c -> Integer.toString(c.step())).toList();
        return new JobException(Reason.NOT_FOUND, "job " + jobId + " has no checkpoint of step " + step
                + (steps.isEmpty() ? " (it has none yet)" : " (it has " + String.join(", ", steps) + ")"));
    }

    /**
     * Waits, a bounded time, for the runner that just paused or ended the job to let it go (its
     * sandbox closed, its lease released), so nothing it still does lands on what comes next; false
     * if it still holds the job.
     */
    private boolean woundUp(String jobId) {
        var deadline = Instant.now().plus(WIND_UP);
        while (store.driven(jobId)) {
            if (Instant.now().isAfter(deadline)) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private static JobException stillWindingUp(String jobId, String status) {
        return new JobException(Reason.UNAVAILABLE, "job " + jobId + " is " + status + " and its sandbox is still"
                + " being closed: try again in a few seconds");
    }

    /**
     * Sends the job's events after {@code afterSequence} to {@code sink}, then new ones as they come,
     * until the job has ended and every event was sent, or {@code stopped} says the watcher left.
     * Runs on the caller's thread, so a slow watcher slows only itself; the watchers of one job share
     * one reader of its events ({@link EventFanout}).
     */
    public void watch(String owner, String jobId, long afterSequence, Consumer<JobEvent> sink, BooleanSupplier stopped)
            throws InterruptedException {
        get(owner, jobId);
        events.watch(jobId, afterSequence, sink, stopped);
    }

    /**
     * The zip of a job that has ended: a complete job's project, or what a job that failed or was
     * cancelled left in its workspace (partial); from this replica's disk, or carried from the replica
     * whose disk holds it. Close what it returns.
     *
     * @throws JobException UNAVAILABLE when the replica that holds it is not running or cannot send it
     */
    public KeptFiles.Found artifact(String owner, String jobId) {
        var job = get(owner, jobId);
        if (!job.status().isTerminal()) {
            throw new JobException(Reason.FAILED_PRECONDITION, "job " + jobId + " is " + job.status().wireName()
                    + "; its zip can be downloaded once it has ended");
        }
        if (job.status() != JobStatus.COMPLETE && !job.artifactPartial()) {
            throw new JobException(Reason.FAILED_PRECONDITION, job.artifactComing(Instant.now())
                    ? "job " + jobId + " was cancelled and what it left is being zipped: try again in a few seconds"
                    : "job " + jobId + " ended (" + job.status().wireName() + ") and "
                            + (job.artifactNote() != null ? job.artifactNote() : "left no files to download"));
        }
        return files.open(KeptFile.zip(jobId)).orElseThrow(() -> new JobException(Reason.NOT_FOUND,
                "the zip of job " + jobId + " is no longer stored"));
    }

    /** A screenshot the job's computer tool took, as PNG, wherever it is kept. */
    public byte[] screenshot(String owner, String jobId, String callId) {
        get(owner, jobId);
        var noSuch = new JobException(Reason.NOT_FOUND, "job " + jobId + " has no screenshot " + callId);
        var file = KeptFile.screenshot(jobId, callId).orElseThrow(() -> noSuch);
        try (var found = files.open(file).orElseThrow(() -> noSuch); var in = found.open()) {
            var png = in.readNBytes(MAX_SCREENSHOT_BYTES + 1);
            if (png.length > MAX_SCREENSHOT_BYTES) {
                throw new JobException(Reason.UNAVAILABLE, "the screenshot " + callId + " of job " + jobId
                        + " is larger than any screenshot (" + (MAX_SCREENSHOT_BYTES >> 20) + " MiB)");
            }
            return png;
        } catch (IOException e) {
            throw new JobException(Reason.UNAVAILABLE, "the screenshot " + callId + " of job " + jobId
                    + " cannot be read: " + e.getMessage());
        }
    }

    /** What {@code owner}'s API key has in use now, over all replicas, beside its limits. */
    public KeyUsage usage(String owner) {
        return store.usage(owner, quotas.of(owner));
    }

    /** The limits (and name) of every API key of the keys file, by owner. */
    public Quotas quotas() {
        return quotas;
    }

    /** How many jobs wait and how many run, over all replicas; one Redis round trip each (so also a readiness probe). */
    public Load load() {
        return new Load(store.queuedJobs(), store.activeJobs().size());
    }

    private static JobException notFound(String jobId) {
        return new JobException(Reason.NOT_FOUND, "no job with id '" + jobId + "'");
    }

    /** Jobs queued and jobs starting or running. */
    public record Load(long queued, long active) {}

    /** A page of jobs and the token of the next page (empty on the last). */
    public record Page(List<Job> jobs, String nextPageToken) {}
}
