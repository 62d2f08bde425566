package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Keys that every replica of one deployment must hold alike (the HMAC keys of Attach credentials and
 * of signed links), kept in Redis so that they are the same on every replica and outlive restarts.
 * The first replica to ask for one makes it; every later one reads it. Redis is already where the
 * jobs and their transcripts live, so whoever can read it gains nothing more from these.
 */
public final class SharedSecrets {
    /** Long enough for HMAC-SHA256 (its block's worth of entropy is more than enough). */
    public static final int LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();
    private final RedisConnection connection;

    public SharedSecrets(RedisConnection connection) {
        this.connection = requireNonNull(connection, "connection");
    }

    /** The secret called {@code name}: the stored one, or else fresh random bytes, stored by whoever came first. */
    public byte[] get(String name) {
        var fresh = new byte[LENGTH];
        RANDOM.nextBytes(fresh);
        return get(name, fresh);
    }

    /**
     * The secret called {@code name}: the stored one, or else {@code proposed}, stored by whoever came
     * first (a replica that kept a key of its own before keys were shared proposes that one, so what it
     * signed stays valid).
     */
    public byte[] get(String name, byte[] proposed) {
        if (proposed.length < LENGTH) {
            throw new IllegalArgumentException("a shared secret must be at least " + LENGTH + " bytes");
        }
        var encoder = Base64.getEncoder();
        requireNonNull(name, "name");
        connection.write(redis -> redis.hsetnx(Keys.SECRETS, name, encoder.encodeToString(proposed)));
        return Base64.getDecoder().decode(connection.commands().hget(Keys.SECRETS, name));
    }
}
