package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.store.Leases;
import io.nomadshell.controlplane.store.PeerDirectory;
import java.time.Clock;

/**
 * What replicas need to carry requests for each other's sandboxes: who holds which job's sandbox
 * (its lease's holder), where each replica takes peer requests, the deployment's peer key (a shared
 * secret, never a user's key) and this replica's name.
 */
public final class Peering {
    private final Leases leases;
    private final PeerDirectory directory;
    private final PeerSigner signer;
    private final String replicaId;

    public Peering(Leases leases, PeerDirectory directory, byte[] key, String replicaId) {
        this.leases = requireNonNull(leases, "leases");
        this.directory = requireNonNull(directory, "directory");
        this.signer = new PeerSigner(key, Clock.systemUTC());
        this.replicaId = requireNonNull(replicaId, "replicaId");
    }

    PeerClient client() {
        return new PeerClient(leases, directory, signer, replicaId, Clock.systemUTC());
    }

    PeerDirectory directory() {
        return directory;
    }

    PeerSigner signer() {
        return signer;
    }

    String replicaId() {
        return replicaId;
    }
}
