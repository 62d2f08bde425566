package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.launch.PoolSandbox;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A warm-pool sandbox on Nomad: a dispatched sandbox job whose meta names a pool member, until one
 * job claims it. The claim changes nothing on the host: the workspace lives in the container, empty
 * until the job writes to it.
 */
final class NomadPoolMember implements PoolSandbox {
    private final NomadSandbox sandbox;
    private final Instant startedAt;
    private final long reservedBytes;
    private final PoolOwners owners;
    private volatile @Nullable String claimedBy;

    NomadPoolMember(NomadSandbox sandbox, Instant startedAt, long reservedBytes, PoolOwners owners) {
        this.sandbox = requireNonNull(sandbox, "sandbox");
        this.startedAt = requireNonNull(startedAt, "startedAt");
        this.reservedBytes = reservedBytes;
        this.owners = requireNonNull(owners, "owners");
    }

    String memberId() {
        return sandbox.jobId();
    }

    /** The job that claimed it, or empty while it waits in the pool. */
    Optional<String> claimedBy() {
        return Optional.ofNullable(claimedBy);
    }

    @Override
    public String jobId() {
        var claimed = claimedBy;
        return claimed != null ? claimed : sandbox.jobId();
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public synchronized void claim(String jobId, Path workspace) {
        requireNonNull(jobId, "jobId");
        if (claimedBy != null) {
            throw new IllegalStateException("the warm-pool sandbox " + sandbox.jobId() + " was claimed already");
        }
        claimedBy = jobId;
    }

    /** Its memory reservation: what it holds on its Nomad client, whatever its processes use. */
    @Override
    public long memoryBytes() {
        return reservedBytes;
    }

    @Override
    public Optional<String> exitReason() {
        return sandbox.exitReason();
    }

    @Override
    public void close() {
        try {
            sandbox.close();
        } finally {
            owners.closed(this);
        }
    }
}
