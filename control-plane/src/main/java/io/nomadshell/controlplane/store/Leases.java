package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;

/**
 * Ownership of running jobs: the replica that holds a job's sandbox renews its lease; a job whose
 * lease has lapsed has lost its owner.
 */
public final class Leases {
    private final RedisCommands<String, String> redis;
    private final LuaScript renew;
    private final LuaScript release;

    public Leases(RedisConnection connection) {
        this.redis = requireNonNull(connection, "connection").commands();
        this.renew = LuaScript.load(redis, "renew_lease.lua");
        this.release = LuaScript.load(redis, "release_lease.lua");
    }

    /** Takes the lease if nobody holds it. */
    public boolean acquire(String jobId, String holder, Duration ttl) {
        return "OK".equals(redis.set(Keys.lease(jobId), holder, SetArgs.Builder.nx().px(ttl.toMillis())));
    }

    /** Extends the lease if {@code holder} still holds it; false means it was lost. */
    public boolean renew(String jobId, String holder, Duration ttl) {
        long renewed = renew.run(redis, ScriptOutputType.INTEGER, new String[] {Keys.lease(jobId)},
                holder, Long.toString(ttl.toMillis()));
        return renewed == 1L;
    }

    public void release(String jobId, String holder) {
        release.run(redis, ScriptOutputType.INTEGER, new String[] {Keys.lease(jobId)}, holder);
    }

    public boolean isHeld(String jobId) {
        return redis.exists(Keys.lease(jobId)) == 1L;
    }
}
