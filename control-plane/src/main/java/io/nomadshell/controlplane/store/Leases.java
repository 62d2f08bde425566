package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * Extends the leases {@code holder} still holds among {@code jobIds}, in one round trip however
     * many there are; returns the jobs whose lease was lost.
     */
    public List<String> renew(List<String> jobIds, String holder, Duration ttl) {
        if (jobIds.isEmpty()) {
            return List.of();
        }
        List<Long> renewed = renew.run(redis, ScriptOutputType.MULTI,
                jobIds.stream().map(Keys::lease).toArray(String[]::new), holder, Long.toString(ttl.toMillis()));
        var lost = new ArrayList<String>();
        for (int i = 0; i < jobIds.size(); i++) {
            if (renewed.get(i) != 1L) {
                lost.add(jobIds.get(i));
            }
        }
        return lost;
    }

    public void release(String jobId, String holder) {
        release.run(redis, ScriptOutputType.INTEGER, new String[] {Keys.lease(jobId)}, holder);
    }

    public boolean isHeld(String jobId) {
        return redis.exists(Keys.lease(jobId)) == 1L;
    }
}
