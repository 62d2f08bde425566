package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Instant;

/**
 * What every replica must agree on about Attach credentials: which launch credentials are spent, and
 * the hash of each job's current resume secret (never the secret itself).
 */
public final class AttachLedger {
    private final RedisConnection connection;
    private final RedisCommands<String, String> redis;
    private final LuaScript rotate;
    private final LuaScript spend;

    public AttachLedger(RedisConnection connection) {
        this.connection = requireNonNull(connection, "connection");
        this.redis = connection.commands();
        this.rotate = LuaScript.load(connection, "rotate_resume.lua");
        this.spend = LuaScript.load(connection, "spend_launch.lua");
    }

    /** Spends the launch credential {@code nonce} of {@code jobId}; false if it was spent before. */
    public boolean spendLaunch(String jobId, String nonce, Instant expiry) {
        long spent = spend.run(ScriptOutputType.INTEGER,
                new String[] {Keys.spentLaunches(jobId), Keys.spentLaunchBefore(jobId, nonce)},
                requireNonNull(nonce, "nonce"), Long.toString(keepAtLeastASecond(expiry)),
                Long.toString(System.currentTimeMillis()));
        return spent == 1L;
    }

    public boolean isSpent(String jobId, String nonce) {
        return redis.sismember(Keys.spentLaunches(jobId), nonce)
                || redis.exists(Keys.spentLaunchBefore(jobId, nonce)) == 1L;
    }

    /** Records the hash of the job's first resume secret, valid until {@code expiry}. */
    public void startResume(String jobId, String secretHash, Instant expiry) {
        requireNonNull(secretHash, "secretHash");
        connection.write(redis -> redis.set(Keys.resumeSecret(jobId), secretHash,
                SetArgs.Builder.pxAt(keepAtLeastASecond(expiry))));
    }

    public boolean resumeMatches(String jobId, String secretHash) {
        return requireNonNull(secretHash, "secretHash").equals(redis.get(Keys.resumeSecret(jobId)));
    }

    /** Replaces the resume secret's hash if {@code presentedHash} is the current one; false if not. */
    public boolean rotateResume(String jobId, String presentedHash, String newHash) {
        long rotated = rotate.run(ScriptOutputType.INTEGER, new String[] {Keys.resumeSecret(jobId)},
                presentedHash, newHash);
        return rotated == 1L;
    }

    private static long keepAtLeastASecond(Instant expiry) {
        // PXAT in the past would be refused; a credential that has just expired is refused before this anyway.
        return Math.max(expiry.toEpochMilli(), System.currentTimeMillis() + 1000);
    }
}
