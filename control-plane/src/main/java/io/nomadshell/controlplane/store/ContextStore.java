package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a job's context manager keeps in Redis beside the transcript: tool outputs too large for the
 * prompt (out of line, under a handle), the running summary with how many turns it covers, and the
 * model's pinned notes. All of it survives a restart of the control plane.
 */
public final class ContextStore {
    private static final Pattern HANDLE = Pattern.compile("o[0-9]{1,9}");

    private final RedisCommands<String, String> redis;
    private final LuaScript write;
    private final LuaScript putOutput;
    private final Leases leases;

    /** A store that holds no job's lease. */
    public ContextStore(RedisConnection connection) {
        this(connection, new Leases(connection));
    }

    /** A store whose writes about a job are fenced with the job's lease while {@code leases} holds it. */
    public ContextStore(RedisConnection connection, Leases leases) {
        this.leases = requireNonNull(leases, "leases");
        this.redis = requireNonNull(connection, "connection").commands();
        this.write = LuaScript.load(connection, "job_write.lua");
        this.putOutput = LuaScript.load(connection, "put_output.lua");
    }

    /** What the context manager saved of a job. */
    public record State(String summary, int condensedTurns, String notes) {}

    /** Stores a whole tool output; returns its handle ({@code o1}, {@code o2}, ...). */
    public String putOutput(String jobId, String text) {
        return putOutput.run(ScriptOutputType.VALUE,
                new String[] {Keys.job(jobId), Keys.context(jobId), Keys.outputs(jobId), Keys.lease(jobId)}, text,
                leases.fenceOf(jobId));
    }

    /** A stored output; empty if the handle is malformed or unknown. */
    public Optional<String> output(String jobId, String handle) {
        if (!HANDLE.matcher(handle).matches()) {
            return Optional.empty();
        }
        return Optional.ofNullable(redis.hget(Keys.outputs(jobId), handle));
    }

    public State state(String jobId) {
        var fields = redis.hgetall(Keys.context(jobId));
        return new State(fields.getOrDefault("summary", ""),
                Integer.parseInt(fields.getOrDefault("condensed_turns", "0")),
                fields.getOrDefault("notes", ""));
    }

    /** The new summary and the number of turns it now covers, together. */
    public void saveSummary(String jobId, String summary, int condensedTurns) {
        write(jobId, Keys.context(jobId), "HSET", "summary", summary, "condensed_turns", Integer.toString(condensedTurns));
    }

    public void saveNotes(String jobId, String notes) {
        write(jobId, Keys.context(jobId), "HSET", "notes", notes);
    }

    /** Appends one entry (JSON) to the job's transcript, kept whole whatever the prompt shows. */
    public void appendTranscript(String jobId, String entryJson) {
        write(jobId, Keys.transcript(jobId), "RPUSH", entryJson);
    }

    /** The job's whole transcript, oldest entry first. */
    public List<String> transcript(String jobId) {
        return redis.lrange(Keys.transcript(jobId), 0, -1);
    }

    /** One write that keeps the job's lifetime and is fenced with its lease (see job_write.lua). */
    private void write(String jobId, String key, String command, String... arguments) {
        var args = new String[arguments.length + 2];
        args[0] = leases.fenceOf(jobId);
        args[1] = command;
        System.arraycopy(arguments, 0, args, 2, arguments.length);
        write.run(ScriptOutputType.INTEGER, new String[] {Keys.job(jobId), key, Keys.lease(jobId)}, args);
    }
}
