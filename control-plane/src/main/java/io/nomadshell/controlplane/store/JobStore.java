package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.nomadshell.controlplane.artifact.KeptFile;
import io.nomadshell.controlplane.artifact.KeptWorkspace;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobSession;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.quota.KeyUsage;
import io.nomadshell.controlplane.quota.OverQuota;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.StatusChanged;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Jobs in Redis: a hash per job, an index per owner, and an event stream per job whose entry ids
 * are {@code 0-<sequence>}, so a watcher resumes after the last sequence it saw with one XREAD.
 */
public final class JobStore {
    /** How long an ended job's keys (and its files) are kept unless the server is told otherwise. */
    private static final String SANDBOX_FIELD = "sandbox_ref";
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    /** The job hash's field of the W3C traceparent of its schedule. */
    private static final String TRACEPARENT = "traceparent";
    static final String STREAM_CAP = "100000";
    private static final Duration IDEMPOTENCY_TTL = Duration.ofHours(24);
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private final RedisCommands<String, String> redis;
    private final RedisAsyncCommands<String, String> redisAsync;
    /** The functions that count what an owner's key has in use, for the scripts that need them. */
    static final String OWNER_USAGE = "owner_usage.lua";

    private final LuaScript schedule;
    private final LuaScript keyUsage;
    private final LuaScript transition;
    private final LuaScript appendEvent;
    private final LuaScript listPage;
    private final LuaScript addUsage;
    private final LuaScript forget;
    private final LuaScript recordKept;
    private final LuaScript jobWrite;
    private final Duration retention;
    private final Leases leases;
    private final SessionStore sessions;
    private volatile JobStoreListener listener = JobStoreListener.NONE;

    /** A store whose ended jobs are kept {@link #DEFAULT_RETENTION}, which holds no job's lease. */
    public JobStore(RedisConnection connection) {
        this(connection, DEFAULT_RETENTION, new Leases(connection));
    }

    /**
     * A store whose ended jobs' keys expire {@code retention} after they ended, and whose writes about
     * a job are fenced with the job's lease while {@code leases} holds it.
     */
    public JobStore(RedisConnection connection, Duration retention, Leases leases) {
        this.leases = requireNonNull(leases, "leases");
        this.redis = requireNonNull(connection, "connection").commands();
        this.retention = requireNonNull(retention, "retention");
        if (retention.toMillis() < 1) {
            throw new IllegalArgumentException("the retention must be at least a millisecond");
        }
        this.redisAsync = connection.asyncCommands();
        this.schedule = LuaScript.load(connection, OWNER_USAGE, "schedule.lua");
        this.keyUsage = LuaScript.load(connection, OWNER_USAGE, "key_usage.lua");
        this.transition = LuaScript.load(connection, "transition.lua");
        this.appendEvent = LuaScript.load(connection, "append_event.lua");
        this.listPage = LuaScript.load(connection, "list_page.lua");
        this.addUsage = LuaScript.load(connection, OWNER_USAGE, "add_usage.lua");
        this.forget = LuaScript.load(connection, "forget.lua");
        this.recordKept = LuaScript.load(connection, "record_kept.lua");
        this.jobWrite = LuaScript.load(connection, "job_write.lua");
        this.sessions = new SessionStore(connection, leases);
    }

    /** The job's conversation beyond one run: messages, pauses, checkpoints, rollbacks and forks. */
    public SessionStore sessions() {
        return sessions;
    }

    /** How long an ended job's keys are kept. */
    public Duration retention() {
        return retention;
    }

    /** Tells {@code listener} what this store writes from now on (one listener; for metrics). */
    public void listen(JobStoreListener listener) {
        this.listener = requireNonNull(listener, "listener");
    }

    /**
     * {@link #create(String, String, String, SandboxResources, Instant, String, KeyQuota, String, Map)} for an
     * owner without limits, outside any trace.
     */
    public String create(String id, String owner, String task, SandboxResources sandbox, Instant createdAt,
            @Nullable String idempotencyKey) {
        return create(id, owner, task, sandbox, createdAt, idempotencyKey, KeyQuota.unlimited(owner), "", Map.of());
    }

    /**
     * Stores a new pending job and queues it, if the owner's key is within {@code quota} (counted in
     * the same script, so replicas never admit past it together). With an idempotency key that an
     * earlier call of the same owner used, nothing is written and that call's job id is returned. A
     * non-empty {@code traceparent} (its schedule's span) is stored with it in the same step, so
     * whichever replica takes the job from the queue goes on with its trace. {@code more} are more
     * fields of the job's hash (a callback's).
     *
     * @throws JobException (OVER_QUOTA) naming the limit, what is in use and when it frees up
     */
    public String create(String id, String owner, String task, SandboxResources sandbox, Instant createdAt,
            @Nullable String idempotencyKey, KeyQuota quota, String traceparent, Map<String, String> more) {
        var first = event(id, createdAt).setStatusChanged(
                StatusChanged.newBuilder().setStatus(JobStatus.PENDING.wireName())).build();
        var idempotency = idempotencyKey == null ? "" : Keys.idempotency(owner, idempotencyKey);
        var args = new ArrayList<>(List.of(id, owner, task, Long.toString(createdAt.toEpochMilli()), print(first),
                Long.toString(IDEMPOTENCY_TTL.toSeconds()), idempotencyKey == null ? "0" : "1"));
        args.addAll(quotaArgs(owner, quota));
        var fields = new LinkedHashMap<>(sandboxFields(sandbox));
        fields.putAll(more);
        fields.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        if (!traceparent.isEmpty()) {
            args.add(TRACEPARENT);
            args.add(traceparent);
        }
        List<Object> reply = schedule.run(ScriptOutputType.MULTI,
                new String[] {Keys.job(id), Keys.ownerIndex(owner), Keys.events(id), Keys.QUEUE, idempotency,
                        Keys.ownerLive(owner)},
                args.toArray(String[]::new));
        refuseIfOver(reply, quota);
        var stored = (String) reply.get(0);
        if (stored.equals(id)) {
            listener.onEvent(first);
        }
        return stored;
    }

    /** What the owner's key has in use now: jobs queued and running, and model use this UTC day. */
    public KeyUsage usage(String owner, KeyQuota quota) {
        List<Object> reply = keyUsage.run(ScriptOutputType.MULTI, new String[] {Keys.ownerLive(owner)},
                Keys.JOB_PREFIX, usagePrefix(owner));
        return new KeyUsage(quota, (Long) reply.get(0), (Long) reply.get(1), (Long) reply.get(2),
                Double.parseDouble((String) reply.get(3)), Instant.ofEpochMilli((Long) reply.get(4)));
    }

    private static String usagePrefix(String owner) {
        return Keys.USAGE_PREFIX + owner + ":";
    }

    /** What the scripts that admit a job within its key's limits take (over_limit in owner_usage.lua), in order. */
    static List<String> quotaArgs(String owner, KeyQuota quota) {
        return List.of(Keys.JOB_PREFIX, Integer.toString(quota.runningJobs()), Integer.toString(quota.queuedJobs()),
                Long.toString(quota.tokensPerDay()), Double.toString(quota.usdPerDay()), usagePrefix(owner));
    }

    /** Throws the refusal an admitting script answered with ({@code {'', limit, used, most, day end}}), if it did. */
    static void refuseIfOver(List<Object> reply, KeyQuota quota) {
        if ("".equals(reply.get(0))) {
            throw OverQuota.refusal(quota, (String) reply.get(1), (String) reply.get(2), (String) reply.get(3),
                    Instant.ofEpochMilli((Long) reply.get(4)));
        }
    }

    /** The fields of a job's hash that say what its sandbox may use. */
    static Map<String, String> sandboxFields(SandboxResources sandbox) {
        var fields = new LinkedHashMap<String, String>();
        fields.put("sandbox_cpu_mhz", Integer.toString(sandbox.cpuMhz()));
        fields.put("sandbox_memory_mb", Integer.toString(sandbox.memoryMb()));
        fields.put("sandbox_timeout_s", Long.toString(sandbox.timeout().toSeconds()));
        fields.put("sandbox_egress_allow", String.join(",", sandbox.egressAllow()));
        fields.put("sandbox_disk_mb", Integer.toString(sandbox.diskMb()));
        return fields;
    }

    public Optional<Job> find(String id) {
        var fields = redis.hgetall(Keys.job(id));
        return fields.isEmpty() ? Optional.empty() : Optional.of(toJob(fields));
    }

    /**
     * {@link #find} without holding a thread: the same HGETALL on the shared connection. The job is
     * built and the stage completed on {@code executor} (the caller's event loop, say), not on the
     * connection's one I/O thread, which every command shares.
     */
    public CompletionStage<Optional<Job>> findAsync(String id, Executor executor) {
        return redisAsync.hgetall(Keys.job(id))
                .thenApplyAsync(fields -> fields.isEmpty() ? Optional.<Job>empty() : Optional.of(toJob(fields)), executor);
    }

    /** Up to {@code limit} of the owner's jobs from {@code offset} on, newest first, in one round trip. */
    public Page listByOwner(String owner, long offset, int limit) {
        List<Object> reply = listPage.run(ScriptOutputType.MULTI, new String[] {Keys.ownerIndex(owner)},
                Long.toString(offset), Integer.toString(limit), Keys.JOB_PREFIX);
        var jobs = new ArrayList<Job>(reply.size() - 1);
        for (var hash : reply.subList(1, reply.size())) {
            jobs.add(toJob(fields((List<?>) hash)));
        }
        return new Page(jobs, (Long) reply.get(0) == 1L);
    }

    /**
     * Ids of jobs that ended before {@code cutoff}, oldest first, at most {@code max}; each as the
     * token {@link #forget} takes.
     */
    public List<String> endedBefore(Instant cutoff, int max) {
        return redis.zrangebyscore(Keys.ENDED, Range.create(Double.NEGATIVE_INFINITY, (double) cutoff.toEpochMilli()),
                Limit.create(0, max));
    }

    /** The job id in a token of {@link #endedBefore}. */
    public static String jobIdOf(String ended) {
        return ended.substring(0, ended.indexOf(':'));
    }

    /** Deletes every key of an ended job (see {@link #endedBefore}); true if this call did. */
    public boolean forget(String ended) {
        var id = jobIdOf(ended);
        var owner = ended.substring(ended.indexOf(':') + 1);
        var keys = new ArrayList<String>(List.of(Keys.ENDED, Keys.ownerIndex(owner)));
        keys.addAll(List.of(Keys.ofJob(id)));
        long forgotten = forget.run(ScriptOutputType.INTEGER, keys.toArray(String[]::new), ended, id);
        return forgotten == 1L;
    }

    /**
     * Moves the job to {@code target} if its current status allows it, sets {@code fields} with it,
     * and appends the status event. Returns the outcome; nothing is written when it is refused.
     * Fenced: made under a lease this replica lost, it throws {@link LeaseLostException}.
     */
    public Transition transition(String id, JobStatus target, @Nullable String error, Map<String, String> fields) {
        return transition(id, target, error, fields, leases.fenceOf(id));
    }

    /** Whether a runner holds the job (its lease is taken). */
    public boolean driven(String id) {
        return leases.isHeld(id);
    }

    /**
     * Puts a paused or ended job back in the queue to go on, unless a runner still holds it: that
     * runner's dispatcher does it once the job is let go, if a message waits. Not the owner's write.
     */
    public boolean goOn(String id) {
        return !leases.isHeld(id)
                && transition(id, JobStatus.PENDING, null, Map.of("pause_requested", "0"), "").applied();
    }

    /**
     * A user's cancel, with {@code fields}: like {@link #transition}, but never fenced, since whoever
     * owns the job, the user's word stands (the owner learns of it and stops).
     */
    public Transition cancel(String id, Map<String, String> fields) {
        return transition(id, JobStatus.CANCELLED, null, fields, "");
    }

    private Transition transition(String id, JobStatus target, @Nullable String error, Map<String, String> fields,
            String fence) {
        var now = Instant.now();
        var change = StatusChanged.newBuilder().setStatus(target.wireName());
        var all = new LinkedHashMap<>(fields);
        if (error != null) {
            change.setError(error);
            all.put("error", error);
        }
        if (target == JobStatus.RUNNING) {
            all.put("started_at", Long.toString(now.toEpochMilli()));
        }
        if (target.isTerminal()) {
            all.put("finished_at", Long.toString(now.toEpochMilli()));
        }
        var allowed = JobStatus.predecessorsOf(target).stream()
                .map(JobStatus::wireName)
                .collect(Collectors.joining(" "));
        var statusEvent = event(id, now).setStatusChanged(change).build();
        var args = new ArrayList<String>(List.of(
                target.wireName(), allowed, print(statusEvent),
                STREAM_CAP, target.isTerminal() ? "end" : target.isActive() ? "active" : "idle",
                Long.toString(retention.toMillis()), Long.toString(now.toEpochMilli()), fence));
        all.forEach((key, value) -> {
            args.add(key);
            args.add(value);
        });
        var jobKeys = Keys.ofJob(id);
        var keys = new ArrayList<String>(List.of(jobKeys[0], jobKeys[1], Keys.ACTIVE, Keys.ENDED, Keys.lease(id), Keys.QUEUE,
                Keys.WEBHOOKS_DUE, Keys.WEBHOOKS));
        List.of(jobKeys).subList(2, jobKeys.length).stream().filter(key -> !key.equals(Keys.lease(id))).forEach(keys::add);
        List<Object> result = transition.run(ScriptOutputType.MULTI,
                keys.toArray(String[]::new), args.toArray(String[]::new));
        var previous = (String) result.get(1);
        boolean applied = (Long) result.get(0) == 1L;
        if (applied) {
            listener.onEvent(statusEvent);
        }
        return new Transition(applied, previous.isEmpty() ? null : JobStatus.fromWireName(previous));
    }

    /**
     * Appends an event (its sequence and time are filled in here); returns its sequence, 0 if no such
     * job. Fenced, like {@link #transition}. An append whose answer was lost with the connection is
     * sent again under the same name, which Redis recognises: the event is appended once.
     */
    public long appendEvent(String id, JobEvent.Builder event) {
        return appendEvent(id, event, leases.fenceOf(id));
    }

    /**
     * Appends an event that is not the job's owner's write (a webhook attempt's outcome, made by
     * whichever replica claimed it): never fenced, like {@link #cancel}.
     */
    public long appendOthersEvent(String id, JobEvent.Builder event) {
        return appendEvent(id, event, "");
    }

    private long appendEvent(String id, JobEvent.Builder event, String fence) {
        var full = event.setJobId(id).setTime(Timestamps.fromMillis(System.currentTimeMillis())).build();
        var name = Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, Character.MAX_RADIX);
        long sequence = appendEvent.<Long>runUntilAnswered(ScriptOutputType.INTEGER,
                new String[] {Keys.job(id), Keys.events(id), Keys.lease(id)}, print(full), STREAM_CAP,
                fence, name);
        if (sequence > 0) {
            listener.onEvent(full.toBuilder().setSequence(sequence).build());
        }
        return sequence;
    }

    /** Up to {@code max} events with a sequence above {@code afterSequence}, oldest first. */
    public List<JobEvent> eventsAfter(String id, long afterSequence, int max) {
        var messages = redis.xread(XReadArgs.Builder.count(max),
                XReadArgs.StreamOffset.from(Keys.events(id), "0-" + afterSequence));
        var events = new ArrayList<JobEvent>(messages.size());
        for (var message : messages) {
            events.add(parse(message));
        }
        return events;
    }

    /** The job's fields that say what it keeps of its workspace (set with its terminal status). */
    public static Map<String, String> fieldsOf(KeptWorkspace kept) {
        return switch (kept) {
            case KeptWorkspace.Zip zip -> Map.of("artifact_bytes", Long.toString(zip.bytes()),
                    "artifact_sha256", zip.sha256(), "artifact_partial", zip.partial() ? "1" : "0");
            case KeptWorkspace.Nothing nothing -> Map.of("artifact_note", nothing.note());
        };
    }

    /** The field that makes watchers of a cancelled job wait for its partial zip until {@code dueBy}. */
    public static Map<String, String> artifactDueBy(Instant dueBy) {
        return Map.of("artifact_due_by", Long.toString(dueBy.toEpochMilli()));
    }

    /** Records what a job that has already ended (cancelled while it ran) keeps; watchers stop waiting for it. */
    public void recordKept(String id, KeptWorkspace kept) {
        var args = new ArrayList<String>(List.of(id, leases.fenceOf(id)));
        fieldsOf(kept).forEach((key, value) -> {
            args.add(key);
            args.add(value);
        });
        // Also wakes watchers waiting for the zip (pub/sub is their hint that something changed).
        recordKept.run(ScriptOutputType.INTEGER, new String[] {Keys.job(id), Keys.lease(id)},
                args.toArray(String[]::new));
    }

    /**
     * Records what the job's sandbox is found by ({@link io.nomadshell.controlplane.launch.Sandbox#reference()}),
     * so that a replica taking the job over adopts it; fenced like every write of the job's owner.
     */
    public void recordSandbox(String id, String reference) {
        jobWrite.run(ScriptOutputType.INTEGER, new String[] {Keys.job(id), Keys.job(id), Keys.lease(id)},
                leases.fenceOf(id), "HSET", SANDBOX_FIELD, requireNonNull(reference, "reference"));
    }

    /**
     * Records that the artifact store {@code storeId} holds {@code file} (written when the file is in place),
     * so that any replica can find the one that serves it; fenced like every write of the job's owner.
     */
    public void recordPlacement(KeptFile file, String storeId) {
        var key = Keys.job(file.jobId());
        jobWrite.run(ScriptOutputType.INTEGER, new String[] {key, key, Keys.lease(file.jobId())},
                leases.fenceOf(file.jobId()), "HSET", file.placementField(), requireNonNull(storeId, "storeId"));
    }

    /** The artifact store recorded as holding {@code file}, if one was. */
    public Optional<String> placementOf(KeptFile file) {
        return Optional.ofNullable(redis.hget(Keys.job(file.jobId()), file.placementField()));
    }

    /** What the job's sandbox is found by, if one that outlives its replica was recorded. */
    /** The W3C traceparent the job was scheduled under, if it was traced. */
    public Optional<String> traceparentOf(String id) {
        return Optional.ofNullable(redis.hget(Keys.job(id), TRACEPARENT)).filter(value -> !value.isEmpty());
    }

    public Optional<String> sandboxOf(String id) {
        return Optional.ofNullable(redis.hget(Keys.job(id), SANDBOX_FIELD));
    }

    /** Counts model usage (and what it cost, in US dollars) toward the job's totals. */
    public void addUsage(String id, int steps, long promptTokens, long completionTokens, double costUsd) {
        addUsage.run(ScriptOutputType.INTEGER, new String[] {Keys.job(id), Keys.lease(id)},
                Integer.toString(steps), Long.toString(promptTokens), Long.toString(completionTokens),
                Double.toString(costUsd), leases.fenceOf(id), Keys.USAGE_PREFIX);
        listener.onUsage(steps, promptTokens, completionTokens);
    }

    /** Jobs waiting in the queue (or taken and not yet started), over all replicas. */
    public long queuedJobs() {
        return redis.xlen(Keys.QUEUE);
    }

    /** Jobs in starting or running, on any replica. */
    public Set<String> activeJobs() {
        return redis.smembers(Keys.ACTIVE);
    }

    static JobEvent.Builder event(String id, Instant time) {
        return JobEvent.newBuilder().setJobId(id).setTime(Timestamps.fromMillis(time.toEpochMilli()));
    }

    static String print(JobEvent event) {
        try {
            return PRINTER.print(event);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static JobEvent parse(StreamMessage<String, String> message) {
        var builder = JobEvent.newBuilder();
        try {
            PARSER.merge(message.getBody().get("event"), builder);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("corrupt event " + message.getId(), e);
        }
        var id = message.getId();
        return builder.setSequence(Long.parseLong(id.substring(id.indexOf('-') + 1))).build();
    }

    private static Map<String, String> fields(List<?> flat) {
        var fields = new LinkedHashMap<String, String>(flat.size());
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            fields.put((String) flat.get(i), (String) flat.get(i + 1));
        }
        return fields;
    }

    private static Job toJob(Map<String, String> f) {
        return new Job(
                f.get("id"),
                f.get("owner"),
                f.get("task"),
                JobStatus.fromWireName(f.get("status")),
                f.get("error"),
                instant(f.get("created_at")),
                optionalInstant(f.get("started_at")),
                optionalInstant(f.get("finished_at")),
                Integer.parseInt(f.getOrDefault("steps", "0")),
                Long.parseLong(f.getOrDefault("prompt_tokens", "0")),
                Long.parseLong(f.getOrDefault("completion_tokens", "0")),
                Long.parseLong(f.getOrDefault("artifact_bytes", "0")),
                "1".equals(f.get("artifact_partial")),
                f.get("artifact_note"),
                optionalInstant(f.get("artifact_due_by")),
                Double.parseDouble(f.getOrDefault("cost_usd", "0")),
                sandbox(f),
                session(f));
    }

    /** Jobs stored before sessions have no checkpoint, no pause asked, and come from no fork. */
    private static JobSession session(Map<String, String> f) {
        var restore = f.get("restore_step");
        return new JobSession(
                Integer.parseInt(f.getOrDefault("checkpoint_step", "-1")),
                "1".equals(f.get("pause_requested")),
                f.get("forked_from"),
                Integer.parseInt(f.getOrDefault("forked_from_step", "0")),
                restore == null || restore.isEmpty() ? null : Integer.valueOf(restore));
    }

    /** Jobs stored before sandboxes had resources get the defaults; those stored before egress, none. */
    private static SandboxResources sandbox(Map<String, String> f) {
        if (!f.containsKey("sandbox_memory_mb")) {
            return SandboxResources.DEFAULT;
        }
        return new SandboxResources(
                Integer.parseInt(f.get("sandbox_cpu_mhz")),
                Integer.parseInt(f.get("sandbox_memory_mb")),
                Duration.ofSeconds(Long.parseLong(f.get("sandbox_timeout_s"))),
                egressAllow(f.getOrDefault("sandbox_egress_allow", "")),
                // Jobs stored before sandboxes had a disk size get the default.
                Integer.parseInt(f.getOrDefault("sandbox_disk_mb", Integer.toString(SandboxResources.DEFAULT_DISK_MB))));
    }

    private static List<String> egressAllow(String joined) {
        return joined.isEmpty() ? List.of() : List.of(joined.split(","));
    }

    private static Instant instant(String millis) {
        return Instant.ofEpochMilli(Long.parseLong(millis));
    }

    private static @Nullable Instant optionalInstant(@Nullable String millis) {
        return millis == null ? null : instant(millis);
    }

    /**
     * What a transition did.
     *
     * @param applied whether the job moved
     * @param previous the status before (when applied) or the current one (when refused); null if no such job
     */
    public record Transition(boolean applied, @Nullable JobStatus previous) {}

    /**
     * A page of an owner's jobs.
     *
     * @param more whether the owner has jobs after this page
     */
    public record Page(List<Job> jobs, boolean more) {}
}
