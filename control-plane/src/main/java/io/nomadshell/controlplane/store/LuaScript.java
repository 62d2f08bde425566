package io.nomadshell.controlplane.store;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** A Lua script from this package's resources, run by digest and re-sent when Redis lost it. */
final class LuaScript {
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

    <T> T run(RedisCommands<String, String> redis, ScriptOutputType type, String[] keys, String... args) {
        try {
            return redis.evalsha(digest, type, keys, args);
        } catch (RedisNoScriptException e) {
            // A restarted or flushed Redis forgets loaded scripts.
            return redis.eval(source, type, keys, args);
        }
    }
}
