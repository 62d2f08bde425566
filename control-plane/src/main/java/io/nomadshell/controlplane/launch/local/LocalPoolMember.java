package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.PoolSandbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** A local warm-pool sandbox: a {@link LocalSandbox} on a {@link PoolSlot}, until one job claims it. */
final class LocalPoolMember implements PoolSandbox {
    private final LocalSandbox sandbox;
    private final PoolSlot slot;
    private final Path logFile;
    private final Instant startedAt;
    private volatile @Nullable String jobId;
    private volatile @Nullable Path jobWorkspace;

    LocalPoolMember(LocalSandbox sandbox, PoolSlot slot, Path logFile, Instant startedAt) {
        this.sandbox = requireNonNull(sandbox, "sandbox");
        this.slot = requireNonNull(slot, "slot");
        this.logFile = requireNonNull(logFile, "logFile");
        this.startedAt = requireNonNull(startedAt, "startedAt");
    }

    @Override
    public String jobId() {
        var claimed = jobId;
        return claimed != null ? claimed : sandbox.jobId();
    }

    @Override
    public Instant startedAt() {
        return startedAt;
    }

    @Override
    public synchronized void claim(String jobId, Path workspace) throws LaunchException {
        requireNonNull(jobId, "jobId");
        if (this.jobId != null) {
            throw new IllegalStateException("the warm-pool sandbox " + sandbox.jobId() + " was claimed already");
        }
        try {
            Path real = workspace.toRealPath();
            slot.claim(real);
            this.jobWorkspace = real;
            this.jobId = jobId;
            // The log under the job's name too, where operators (and cold launches) put it.
            Path jobLog = logFile.resolveSibling(jobId + ".log");
            Files.deleteIfExists(jobLog);
            Files.createLink(jobLog, logFile);
        } catch (IOException e) {
            throw new LaunchException("the warm-pool sandbox could not be given the job's workspace: " + e.getMessage(), e);
        }
    }

    @Override
    public long memoryBytes() {
        return sandbox.pssBytes();
    }

    @Override
    public Optional<String> exitReason() {
        return sandbox.exitReason();
    }

    /** The job's workspace once claimed (the slot bound on it), until closed. */
    @Override
    public Optional<Path> workspaceOnHost() {
        var claimed = jobWorkspace;
        return sandbox.workspaceOnHost().map(slotDir -> claimed != null ? claimed : slotDir);
    }

    @Override
    public void close() {
        sandbox.close();
    }
}
