package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

/**
 * Ownership of running jobs: the replica that holds a job's sandbox renews its lease; a job whose
 * lease has lapsed has lost its owner. The leases this replica took are also the fences of the
 * stores that share this object: while one is held here, every write about its job is checked in
 * Redis against it, so a replica that lost a job (and has not noticed yet) cannot write over the
 * next owner's.
 */
public final class Leases {
    private final RedisCommands<String, String> redis;
    private final LuaScript acquire;
    private final LuaScript renew;
    private final LuaScript release;
    /** Kept after the lease is lost, until released: the lost job's late writes stay fenced. */
    private final Map<String, Lease> taken = new ConcurrentHashMap<>();

    public Leases(RedisConnection connection) {
        this.redis = requireNonNull(connection, "connection").commands();
        this.acquire = LuaScript.load(connection, "acquire_lease.lua");
        this.renew = LuaScript.load(connection, "renew_lease.lua");
        this.release = LuaScript.load(connection, "release_lease.lua");
    }

    /** Takes the lease of a stored job if nobody holds it, under the job's next epoch. */
    public Optional<Lease> acquire(String jobId, String holder, Duration ttl) {
        String token = acquire.run(ScriptOutputType.VALUE, new String[] {Keys.lease(jobId), Keys.job(jobId)},
                holder, Long.toString(ttl.toMillis()));
        if (token == null) {
            return Optional.empty();
        }
        var lease = new Lease(jobId, token);
        taken.put(jobId, lease);
        return Optional.of(lease);
    }

    /**
     * Extends those of {@code leases} that are still their jobs' leases, in one round trip however
     * many there are, waiting for Redis no longer than {@code timeout}; returns the ones that were lost.
     */
    public List<Lease> renew(List<Lease> leases, Duration ttl, Duration timeout)
            throws TimeoutException, InterruptedException {
        if (leases.isEmpty()) {
            return List.of();
        }
        var args = new ArrayList<String>(leases.size() + 1);
        args.add(Long.toString(ttl.toMillis()));
        leases.forEach(lease -> args.add(lease.token()));
        List<Long> renewed = renew.run(timeout, ScriptOutputType.MULTI,
                leases.stream().map(lease -> Keys.lease(lease.jobId())).toArray(String[]::new),
                args.toArray(String[]::new));
        var lost = new ArrayList<Lease>();
        for (int i = 0; i < leases.size(); i++) {
            if (renewed.get(i) != 1L) {
                lost.add(leases.get(i));
            }
        }
        return lost;
    }

    /** Gives the lease up (if it is still the job's) and stops fencing the job's writes with it. */
    public void release(Lease lease) {
        try {
            release.run(ScriptOutputType.INTEGER, new String[] {Keys.lease(lease.jobId())}, lease.token());
        } finally {
            taken.remove(lease.jobId(), lease);
        }
    }

    /** The replica that holds the job's lease now (and so its sandbox), if anyone does. */
    public Optional<String> holder(String jobId) {
        var token = redis.get(Keys.lease(requireNonNull(jobId, "jobId")));
        // A token is holder/epoch; a replica's name may itself hold a slash.
        return token == null || token.lastIndexOf('/') < 1 ? Optional.empty()
                : Optional.of(token.substring(0, token.lastIndexOf('/')));
    }

    public boolean isHeld(String jobId) {
        return redis.exists(Keys.lease(jobId)) == 1L;
    }

    /** The token this replica's writes about the job are fenced with: its lease's, or "" if it took none. */
    String fenceOf(String jobId) {
        var lease = taken.get(jobId);
        return lease == null ? "" : lease.token();
    }
}
