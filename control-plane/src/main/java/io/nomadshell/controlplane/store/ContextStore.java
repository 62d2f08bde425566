package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;
import java.util.Map;
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

    public ContextStore(RedisConnection connection) {
        this.redis = requireNonNull(connection, "connection").commands();
    }

    /** What the context manager saved of a job. */
    public record State(String summary, int condensedTurns, String notes) {}

    /** Stores a whole tool output; returns its handle ({@code o1}, {@code o2}, ...). */
    public String putOutput(String jobId, String text) {
        var handle = "o" + redis.hincrby(Keys.context(jobId), "outputs", 1);
        redis.set(Keys.output(jobId, handle), text);
        return handle;
    }

    /** A stored output; empty if the handle is malformed or unknown. */
    public Optional<String> output(String jobId, String handle) {
        if (!HANDLE.matcher(handle).matches()) {
            return Optional.empty();
        }
        return Optional.ofNullable(redis.get(Keys.output(jobId, handle)));
    }

    public State state(String jobId) {
        var fields = redis.hgetall(Keys.context(jobId));
        return new State(fields.getOrDefault("summary", ""),
                Integer.parseInt(fields.getOrDefault("condensed_turns", "0")),
                fields.getOrDefault("notes", ""));
    }

    /** The new summary and the number of turns it now covers, together. */
    public void saveSummary(String jobId, String summary, int condensedTurns) {
        redis.hset(Keys.context(jobId), Map.of("summary", summary, "condensed_turns", Integer.toString(condensedTurns)));
    }

    public void saveNotes(String jobId, String notes) {
        redis.hset(Keys.context(jobId), "notes", notes);
    }

    /** Appends one entry (JSON) to the job's transcript, kept whole whatever the prompt shows. */
    public void appendTranscript(String jobId, String entryJson) {
        redis.rpush(Keys.transcript(jobId), entryJson);
    }

    /** The job's whole transcript, oldest entry first. */
    public List<String> transcript(String jobId) {
        return redis.lrange(Keys.transcript(jobId), 0, -1);
    }
}
