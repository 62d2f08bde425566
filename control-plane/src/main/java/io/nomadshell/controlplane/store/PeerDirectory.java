package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * Where each replica takes requests of other replicas (its peer address), and which replica serves the
 * files of each artifact store, advertised with a TTL that the replica keeps renewing, so a dead
 * replica's advertisements lapse; and the nonces of replica-to-replica requests already spent, so that
 * none is taken twice.
 */
public final class PeerDirectory {
    private final RedisConnection connection;
    private final RedisCommands<String, String> redis;
    /** Deletes a key only while it holds the given value: a lease's release, and a withdrawal here. */
    private final LuaScript deleteIfStill;

    public PeerDirectory(RedisConnection connection) {
        this.connection = requireNonNull(connection, "connection");
        this.redis = connection.commands();
        this.deleteIfStill = LuaScript.load(connection, "release_lease.lua");
    }

    /** Says that {@code replicaId} takes peer requests at {@code address} ({@code host:port}) for {@code ttl}. */
    public void advertise(String replicaId, String address, Duration ttl) {
        var key = Keys.peer(requireNonNull(replicaId, "replicaId"));
        requireNonNull(address, "address");
        connection.write(redis -> redis.set(key, address, SetArgs.Builder.px(ttl.toMillis())));
    }

    /**
     * Says that {@code replicaId} serves the files of artifact store {@code storeId} for {@code ttl}: of
     * replicas that share a store, any one will do, so the last to say so is named.
     */
    public void advertiseStore(String storeId, String replicaId, Duration ttl) {
        var key = Keys.storeServer(requireNonNull(storeId, "storeId"));
        requireNonNull(replicaId, "replicaId");
        connection.write(redis -> redis.set(key, replicaId, SetArgs.Builder.px(ttl.toMillis())));
    }

    /** A replica alive to serve the files of artifact store {@code storeId}, if any. */
    public Optional<String> serverOf(String storeId) {
        return Optional.ofNullable(redis.get(Keys.storeServer(requireNonNull(storeId, "storeId"))));
    }

    /**
     * Takes {@code replicaId}'s advertisement back, if it is still {@code address}, waiting for Redis no
     * longer than {@code timeout}: a stopping replica does not wait long for what lapses on its own.
     */
    public void withdraw(String replicaId, String address, Duration timeout) throws TimeoutException, InterruptedException {
        deleteIfStill.run(timeout, ScriptOutputType.INTEGER, new String[] {Keys.peer(requireNonNull(replicaId, "replicaId"))},
                requireNonNull(address, "address"));
    }

    /** The peer address {@code replicaId} advertises, if it is alive to renew it. */
    public Optional<String> addressOf(String replicaId) {
        return Optional.ofNullable(redis.get(Keys.peer(requireNonNull(replicaId, "replicaId"))));
    }

    /** Spends {@code nonce}: true the first time, false ever after (for {@code ttl}, longer than a request stays fresh). */
    public boolean spend(String nonce, Duration ttl) {
        var key = Keys.peerNonce(requireNonNull(nonce, "nonce"));
        return "OK".equals(connection.write(redis -> redis.set(key, "1", SetArgs.Builder.nx().px(ttl.toMillis()))));
    }
}
