package io.nomadshell.controlplane.store;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Lua script from this package's resources, run by digest and re-sent when Redis lost it (a restart,
 * a flush, or a failover: scripts are not replicated, so a promoted replica has none).
 */
final class LuaScript {
    private static final Logger log = LoggerFactory.getLogger(LuaScript.class);
    /** What a fenced script answers to a write made under a lease that is no longer the job's. */
    private static final String FENCED = "FENCED";

    private final RedisConnection connection;
    private final String source;
    private final String digest;

    private LuaScript(RedisConnection connection, String source, String digest) {
        this.connection = connection;
        this.source = source;
        this.digest = digest;
    }

    /** The script made of {@code resources} one after the other (the first ones define functions the last uses). */
    static LuaScript load(RedisConnection connection, String... resources) {
        var source = new StringBuilder();
        for (var resource : resources) {
            try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("missing Lua script " + resource);
                }
                source.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        var text = source.toString();
        return new LuaScript(connection, text, connection.commands().scriptLoad(text));
    }

    /**
     * Runs the script, on the primary (see {@link RedisConnection#write}); a fenced write it refused
     * (see {@link Lease}) throws {@link LeaseLostException}.
     */
    <T> T run(ScriptOutputType type, String[] keys, String... args) {
        try {
            return connection.write(redis -> {
                try {
                    return redis.<T>evalsha(digest, type, keys, args);
                } catch (RedisNoScriptException e) {
                    return redis.<T>eval(source, type, keys, args);
                }
            });
        } catch (RedisCommandExecutionException e) {
            if (e.getMessage() != null && e.getMessage().endsWith(FENCED)) { // Redis may prefix "ERR ".
                throw new LeaseLostException("the job's lease is no longer this control plane's (it lapsed or "
                        + "another took the job over): its write to " + keys[0] + " was refused");
            }
            throw e;
        }
    }

    /**
     * Like {@link #run}, for a script that a second run with the same arguments does not repeat (it finds
     * what the first did): when the answer is lost (the connection dropped mid-call, or Redis did not
     * answer in time) whether the script ran is unknown, so it is run again, for up to
     * {@link RedisConnection#FAILOVER_WAIT}.
     */
    <T> T runUntilAnswered(ScriptOutputType type, String[] keys, String... args) {
        long deadline = System.nanoTime() + RedisConnection.FAILOVER_WAIT.toNanos();
        while (true) {
            try {
                return run(type, keys, args);
            } catch (RedisException e) {
                if (!RedisConnection.isAnswerLost(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                log.info("Redis's answer to a write to {} was lost ({}): running it again", keys[0], e.toString());
            }
        }
    }

    /**
     * Like {@link #run}, but waits for the answer no longer than {@code timeout} (shorter than the
     * connection's own command timeout), for callers that must act before then, and tries once: a
     * server that is no longer the primary is left for the next call.
     */
    <T> T run(Duration timeout, ScriptOutputType type, String[] keys, String... args)
            throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        var redis = connection.asyncCommands();
        try {
            try {
                return redis.<T>evalsha(digest, type, keys, args).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RedisNoScriptException)) {
                    throw e;
                }
                return redis.<T>eval(source, type, keys, args)
                        .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (ExecutionException e) {
            if (RedisConnection.isNotPrimary(e.getCause())) {
                connection.leaveOldPrimary(e.getCause());
            }
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
