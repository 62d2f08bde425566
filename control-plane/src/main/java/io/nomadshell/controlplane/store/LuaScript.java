package io.nomadshell.controlplane.store;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A Lua script from this package's resources, run by digest and re-sent when Redis lost it. */
final class LuaScript {
    /** What a fenced script answers to a write made under a lease that is no longer the job's. */
    private static final String FENCED = "FENCED";

    private final String source;
    private final String digest;

    private LuaScript(String source, String digest) {
        this.source = source;
        this.digest = digest;
    }

    static LuaScript load(RedisCommands<String, String> redis, String resource) {
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing Lua script " + resource);
            }
            var source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new LuaScript(source, redis.scriptLoad(source));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the script; a fenced write it refused (see {@link Lease}) throws {@link LeaseLostException}. */
    <T> T run(RedisCommands<String, String> redis, ScriptOutputType type, String[] keys, String... args) {
        try {
            try {
                return redis.evalsha(digest, type, keys, args);
            } catch (RedisNoScriptException e) {
                // A restarted or flushed Redis forgets loaded scripts.
                return redis.eval(source, type, keys, args);
            }
        } catch (RedisCommandExecutionException e) {
            if (e.getMessage() != null && e.getMessage().endsWith(FENCED)) { // Redis may prefix "ERR ".
                throw new LeaseLostException("the job's lease is no longer this control plane's (it lapsed or "
                        + "another took the job over): its write to " + keys[0] + " was refused");
            }
            throw e;
        }
    }

    /**
     * Like {@link #run}, but waits for the answer no longer than {@code timeout} (shorter than the
     * connection's own command timeout), for callers that must act before then.
     */
    <T> T run(RedisAsyncCommands<String, String> redis, Duration timeout, ScriptOutputType type, String[] keys,
            String... args) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
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
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
