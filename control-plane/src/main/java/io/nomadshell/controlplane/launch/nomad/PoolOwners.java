package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who owns which warm-pool sandbox on the cluster, so that the janitor of any control plane keeps the
 * members of live control planes and stops those of dead ones. Each launcher is an owner with an id of
 * its own (in its members' dispatch meta) and a heartbeat: a Nomad variable it rewrites on every
 * janitor pass. An owner whose variable is gone, or has not changed for a few passes (measured on the
 * reader's clock, so clocks need not agree), is dead. A live owner's own members are kept while idle,
 * and once claimed while their job is active.
 */
final class PoolOwners implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PoolOwners.class);
    private static final String PATH = "nomad-shell/pool-owners/";
    private static final int MISSED_BEATS = 3;

    private record Beat(long index, Instant seen) {}

    private final NomadApi api;
    private final String ownerId;
    private final Duration deadAfter;
    private final Map<String, NomadPoolMember> members = new ConcurrentHashMap<>();
    private final Map<String, Beat> others = new HashMap<>();

    PoolOwners(NomadApi api, String jobPrefix, Duration beatEvery) {
        this.api = requireNonNull(api, "api");
        this.ownerId = jobPrefix + "-" + UUID.randomUUID().toString().substring(0, 13);
        this.deadAfter = beatEvery.multipliedBy(MISSED_BEATS);
    }

    String ownerId() {
        return ownerId;
    }

    void started(NomadPoolMember member) {
        members.put(member.memberId(), member);
    }

    void closed(NomadPoolMember member) {
        members.remove(member.memberId());
    }

    /** Tells the other control planes that this one lives. */
    void beat() throws NomadApiException {
        api.putVariable(PATH + ownerId, Map.of("alive", Instant.now().toString()));
    }

    /** Whether the member {@code memberId} of {@code owner} is still wanted (called by the janitor only). */
    boolean keep(String memberId, String owner, Predicate<String> jobIsActive) throws NomadApiException {
        if (owner.equals(ownerId)) {
            var member = members.get(memberId);
            return member != null && member.claimedBy().map(jobIsActive::test).orElse(true);
        }
        return alive(owner);
    }

    private boolean alive(String owner) throws NomadApiException {
        var index = api.variableIndex(PATH + owner);
        var now = Instant.now();
        if (index.isEmpty()) {
            others.remove(owner);
            return false;
        }
        var last = others.get(owner);
        if (last == null || last.index() != index.getAsLong()) {
            others.put(owner, new Beat(index.getAsLong(), now));
            return true;
        }
        if (last.seen().plus(deadAfter).isAfter(now)) {
            return true;
        }
        log.info("the control plane that owns warm-pool sandboxes as {} stopped beating: stopping them", owner);
        api.deleteVariable(PATH + owner);
        others.remove(owner);
        return false;
    }

    /** Removes this owner's heartbeat: its members are stopped by its pool, or reaped. */
    @Override
    public void close() {
        try {
            api.deleteVariable(PATH + ownerId);
        } catch (NomadApiException e) {
            log.warn("could not remove the warm-pool owner record {}: {}", ownerId, e.getMessage());
        }
    }
}
