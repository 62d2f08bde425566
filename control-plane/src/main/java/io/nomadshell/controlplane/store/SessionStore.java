package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.util.Timestamps;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.proto.v1.Checkpointed;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.RolledBack;
import io.nomadshell.proto.v1.StatusChanged;
import io.nomadshell.proto.v1.UserMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What makes a job a conversation rather than one run, in Redis: the messages its user sends (an
 * inbox its agent empties into the transcript at each step), pause requests, its checkpoints, and the
 * rollbacks and forks made from them. Writes of the job's owner are fenced with its lease; the user's
 * (a message, a pause, a rollback, a fork) are not.
 */
public final class SessionStore {
    private final RedisCommands<String, String> redis;
    private final Leases leases;
    private final LuaScript postMessage;
    private final LuaScript takeInbox;
    private final LuaScript requestPause;
    private final LuaScript rollback;
    private final LuaScript fork;
    private final LuaScript recordCheckpoint;
    private final LuaScript jobWrite;

    public SessionStore(RedisConnection connection, Leases leases) {
        this.redis = requireNonNull(connection, "connection").commands();
        this.leases = requireNonNull(leases, "leases");
        this.postMessage = LuaScript.load(connection, "post_message.lua");
        this.takeInbox = LuaScript.load(connection, "take_inbox.lua");
        this.requestPause = LuaScript.load(connection, "request_pause.lua");
        this.rollback = LuaScript.load(connection, "rollback.lua");
        this.fork = LuaScript.load(connection, JobStore.OWNER_USAGE, "fork.lua");
        this.recordCheckpoint = LuaScript.load(connection, "record_checkpoint.lua");
        this.jobWrite = LuaScript.load(connection, "job_write.lua");
    }

    /** Queues a message for the job's agent and tells watchers; returns the job's status, empty if no such job. */
    public String postMessage(String jobId, String text) {
        var event = JobStore.event(jobId, Instant.now()).setUserMessage(UserMessage.newBuilder().setText(text)).build();
        return postMessage.run(ScriptOutputType.VALUE,
                new String[] {Keys.job(jobId), Keys.events(jobId), Keys.inbox(jobId)},
                JobStore.print(event), JobStore.STREAM_CAP, text);
    }

    /** Whether messages wait for the job's agent. */
    public boolean hasMessages(String jobId) {
        return redis.llen(Keys.inbox(jobId)) > 0;
    }

    /**
     * What the job's user asked since the last step, taken by its owner at the start of {@code step}:
     * the messages move into the transcript in the same instant.
     */
    public Inbox takeInbox(String jobId, int step) {
        List<String> reply = takeInbox.run(ScriptOutputType.MULTI,
                new String[] {Keys.job(jobId), Keys.inbox(jobId), Keys.transcript(jobId), Keys.lease(jobId)},
                leases.fenceOf(jobId), Integer.toString(step));
        var rollbackTo = reply.get(1);
        return new Inbox("1".equals(reply.get(0)), rollbackTo.isEmpty() ? null : Integer.valueOf(rollbackTo),
                List.copyOf(reply.subList(2, reply.size())));
    }

    /**
     * What the user asked of a running job since its last step.
     *
     * @param pause whether to pause at the end of this step
     * @param rollbackTo the step to roll back to once paused, or null
     * @param messages the user's messages, oldest first, now in the transcript
     */
    public record Inbox(boolean pause, @Nullable Integer rollbackTo, List<String> messages) {}

    /**
     * Asks the runner of a starting or running job to pause it at the end of its step (then roll it
     * back to {@code rollbackTo}, if given); returns the status it found (empty if no such job).
     */
    public String requestPause(String jobId, @Nullable Integer rollbackTo) {
        return requestPause.run(ScriptOutputType.VALUE, new String[] {Keys.job(jobId)},
                rollbackTo == null ? "" : rollbackTo.toString());
    }

    /** Takes a paused job's conversation back to just after {@code step}; false if it is not paused. */
    public boolean rollback(String jobId, int step) {
        var event = JobStore.event(jobId, Instant.now()).setRolledBack(RolledBack.newBuilder().setStep(step)).build();
        long done = rollback.run(ScriptOutputType.INTEGER, new String[] {Keys.job(jobId), Keys.events(jobId),
                Keys.transcript(jobId), Keys.context(jobId), Keys.checkpoints(jobId)},
                Integer.toString(step), JobStore.print(event), JobStore.STREAM_CAP);
        return done == 1L;
    }

    /**
     * Makes job {@code newId} from {@code source} just after {@code step} (its checkpoint must exist),
     * queued at once if its owner's key is within {@code quota}; with {@code text}, that is its first
     * message. False if the source has no such checkpoint.
     *
     * @throws io.nomadshell.controlplane.job.JobException (OVER_QUOTA) past one of the key's limits
     */
    public boolean fork(Job source, String newId, int step, @Nullable String text, Instant createdAt, KeyQuota quota) {
        var first = JobStore.event(newId, createdAt)
                .setStatusChanged(StatusChanged.newBuilder().setStatus("pending")).build();
        var message = text == null ? "" : JobStore.print(JobStore.event(newId, createdAt)
                .setUserMessage(UserMessage.newBuilder().setText(text)).build());
        var args = new ArrayList<>(List.of(newId, Integer.toString(step), Long.toString(createdAt.toEpochMilli()),
                JobStore.print(first), message, text == null ? "" : text));
        args.addAll(JobStore.quotaArgs(source.owner(), quota));
        args.addAll(List.of("owner", source.owner(), "task", source.task(),
                "forked_from", source.id(), "forked_from_step", Integer.toString(step)));
        JobStore.sandboxFields(source.sandbox()).forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        List<Object> reply = fork.run(ScriptOutputType.MULTI, new String[] {Keys.job(newId),
                Keys.ownerIndex(source.owner()), Keys.events(newId), Keys.QUEUE, Keys.transcript(source.id()),
                Keys.transcript(newId), Keys.checkpoints(source.id()), Keys.checkpoints(newId), Keys.inbox(newId),
                Keys.ownerLive(source.owner())}, args.toArray(String[]::new));
        JobStore.refuseIfOver(reply, quota);
        return Long.valueOf(1).equals(reply.get(0));
    }

    /** Records the checkpoint of the workspace after {@code step} and tells watchers; fenced. */
    public void recordCheckpoint(String jobId, Checkpoint checkpoint, long bytes) {
        var event = JobStore.event(jobId, checkpoint.createdAt()).setCheckpointed(Checkpointed.newBuilder()
                .setStep(checkpoint.step()).setCommit(checkpoint.commit()).setFiles(checkpoint.files()).setBytes(bytes))
                .build();
        recordCheckpoint.run(ScriptOutputType.INTEGER, new String[] {Keys.job(jobId), Keys.checkpoints(jobId),
                Keys.events(jobId), Keys.lease(jobId)}, leases.fenceOf(jobId), Integer.toString(checkpoint.step()),
                checkpoint.commit() + " " + checkpoint.files() + " " + checkpoint.createdAt().toEpochMilli(),
                JobStore.print(event), JobStore.STREAM_CAP, Long.toString(bytes));
    }

    /** What the job's checkpoints take on the control plane's disk so far (their bundles' bytes). */
    public long checkpointBytes(String jobId) {
        var bytes = redis.hget(Keys.job(jobId), "checkpoint_bytes");
        return bytes == null ? 0 : Long.parseLong(bytes);
    }

    /** The job's checkpoints, oldest first. */
    public List<Checkpoint> checkpoints(String jobId) {
        return redis.hgetall(Keys.checkpoints(jobId)).entrySet().stream()
                .map(SessionStore::checkpoint)
                .sorted(Comparator.comparingInt(Checkpoint::step))
                .toList();
    }

    /** The checkpoint of {@code step}, if the job has one. */
    public Optional<Checkpoint> checkpoint(String jobId, int step) {
        var value = redis.hget(Keys.checkpoints(jobId), Integer.toString(step));
        return value == null ? Optional.empty() : Optional.of(checkpoint(Map.entry(Integer.toString(step), value)));
    }

    /** The job's files are back as the checkpoint it was to restore holds them; fenced. */
    public void restored(String jobId) {
        jobWrite.run(ScriptOutputType.INTEGER, new String[] {Keys.job(jobId), Keys.job(jobId), Keys.lease(jobId)},
                leases.fenceOf(jobId), "HDEL", "restore_step");
    }

    private static Checkpoint checkpoint(Map.Entry<String, String> entry) {
        var parts = entry.getValue().split(" ");
        return new Checkpoint(Integer.parseInt(entry.getKey()), parts[0], Integer.parseInt(parts[1]),
                Instant.ofEpochMilli(Long.parseLong(parts[2])));
    }

    /** The workspace as it was just after {@code step} (0: before the first), held by a commit. */
    public record Checkpoint(int step, String commit, int files, Instant createdAt) {
        public Checkpoint {
            requireNonNull(commit, "commit");
            requireNonNull(createdAt, "createdAt");
        }

        /** As the API shows it. */
        public io.nomadshell.proto.v1.Checkpoint toProto() {
            return io.nomadshell.proto.v1.Checkpoint.newBuilder().setStep(step).setCommit(commit).setFiles(files)
                    .setCreatedAt(Timestamps.fromMillis(createdAt.toEpochMilli())).build();
        }
    }
}
