package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How the {@link LocalLauncher} starts sandboxes.
 *
 * @param bwrap the bubblewrap executable: a path, or a bare name looked up on {@code PATH}
 * @param command the argv run inside the sandbox, e.g. the agent daemon's {@code java -jar ...}
 * @param readOnlyBinds host paths made visible read-only inside, e.g. the JDK and the daemon jar
 * @param attachSocket the host path of the control plane's Attach Unix socket; its directory is
 *     bound at {@code /run/nomad-shell}, so it should hold nothing else
 * @param memoryLimitBytes the memory the whole sandbox may use
 * @param pidsLimit how many processes and threads the whole sandbox may have
 * @param cpuLimit how many CPU cores' worth of time the sandbox may use
 * @param logDirectory the host directory receiving each sandbox's output as {@code <jobId>.log};
 *     never inside a workspace
 * @param diskLimitBytes the size of a sandbox's workspace and of its {@code /tmp}, unless the job asks
 * @param sandboxUidBase the first of the host uids sandboxes run as, one each (see {@link SandboxUids})
 */
public record LocalLauncherOptions(
        String bwrap,
        List<String> command,
        List<ReadOnlyBind> readOnlyBinds,
        Path attachSocket,
        long memoryLimitBytes,
        int pidsLimit,
        double cpuLimit,
        Path logDirectory,
        long diskLimitBytes,
        int sandboxUidBase) {

    public static final long DEFAULT_MEMORY_LIMIT_BYTES = 1L << 30;
    public static final int DEFAULT_PIDS_LIMIT = 256;
    public static final double DEFAULT_CPU_LIMIT = 1.0;
    public static final long DEFAULT_DISK_LIMIT_BYTES = 4096L << 20;
    public static final int DEFAULT_SANDBOX_UID_BASE = SandboxUids.DEFAULT_BASE;

    public LocalLauncherOptions {
        requireNonNull(bwrap, "bwrap");
        command = List.copyOf(requireNonNull(command, "command"));
        readOnlyBinds = List.copyOf(requireNonNull(readOnlyBinds, "readOnlyBinds"));
        requireNonNull(attachSocket, "attachSocket");
        requireNonNull(logDirectory, "logDirectory");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        if (attachSocket.getParent() == null || attachSocket.getFileName() == null) {
            throw new IllegalArgumentException("attachSocket must name a file in a directory: " + attachSocket);
        }
        if (memoryLimitBytes <= 0 || pidsLimit <= 0 || !(cpuLimit > 0) || diskLimitBytes <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (sandboxUidBase < 1000 || (long) sandboxUidBase + SandboxUids.DEFAULT_COUNT > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the sandbox uid base must be at least 1000 and leave room for "
                    + SandboxUids.DEFAULT_COUNT + " uids: " + sandboxUidBase);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder()
                .bwrap(bwrap)
                .command(command)
                .attachSocket(attachSocket)
                .memoryLimitBytes(memoryLimitBytes)
                .pidsLimit(pidsLimit)
                .cpuLimit(cpuLimit)
                .logDirectory(logDirectory)
                .diskLimitBytes(diskLimitBytes)
                .sandboxUidBase(sandboxUidBase);
        b.readOnlyBinds.addAll(readOnlyBinds);
        return b;
    }

    /**
     * A host path visible read-only inside the sandbox.
     *
     * @param host the path on the host
     * @param sandbox the absolute path inside the sandbox
     */
    public record ReadOnlyBind(Path host, Path sandbox) {
        public ReadOnlyBind {
            requireNonNull(host, "host");
            requireNonNull(sandbox, "sandbox");
            if (!sandbox.isAbsolute()) {
                throw new IllegalArgumentException("sandbox path must be absolute: " + sandbox);
            }
        }
    }

    /** Builds {@link LocalLauncherOptions}; command, attachSocket and logDirectory are required. */
    public static final class Builder {
        private String bwrap = "bwrap";
        private @Nullable List<String> command;
        private final List<ReadOnlyBind> readOnlyBinds = new ArrayList<>();
        private @Nullable Path attachSocket;
        private long memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES;
        private int pidsLimit = DEFAULT_PIDS_LIMIT;
        private double cpuLimit = DEFAULT_CPU_LIMIT;
        private @Nullable Path logDirectory;
        private long diskLimitBytes = DEFAULT_DISK_LIMIT_BYTES;
        private int sandboxUidBase = DEFAULT_SANDBOX_UID_BASE;

        private Builder() {}

        /** The bubblewrap executable; default {@code bwrap} from {@code PATH}. */
        public Builder bwrap(String bwrap) {
            this.bwrap = requireNonNull(bwrap, "bwrap");
            return this;
        }

        /** The argv run inside the sandbox. */
        public Builder command(List<String> command) {
            this.command = List.copyOf(requireNonNull(command, "command"));
            return this;
        }

        /** The argv run inside the sandbox. */
        public Builder command(String... command) {
            return command(List.of(command));
        }

        /** Makes {@code path} visible read-only at the same path inside the sandbox. */
        public Builder readOnlyBind(Path path) {
            return readOnlyBind(path, path);
        }

        /** Makes the host path {@code host} visible read-only at {@code sandbox} inside. */
        public Builder readOnlyBind(Path host, Path sandbox) {
            readOnlyBinds.add(new ReadOnlyBind(host, sandbox));
            return this;
        }

        /** The host path of the control plane's Attach Unix socket. */
        public Builder attachSocket(Path attachSocket) {
            this.attachSocket = requireNonNull(attachSocket, "attachSocket");
            return this;
        }

        /** The sandbox's memory limit; default 1 GiB. */
        public Builder memoryLimitBytes(long memoryLimitBytes) {
            this.memoryLimitBytes = memoryLimitBytes;
            return this;
        }

        /** The sandbox's limit on processes and threads; default 256. */
        public Builder pidsLimit(int pidsLimit) {
            this.pidsLimit = pidsLimit;
            return this;
        }

        /** The sandbox's CPU limit in cores; default 1.0. */
        public Builder cpuLimit(double cpuLimit) {
            this.cpuLimit = cpuLimit;
            return this;
        }

        /** The host directory for the sandboxes' {@code <jobId>.log} files. */
        public Builder logDirectory(Path logDirectory) {
            this.logDirectory = requireNonNull(logDirectory, "logDirectory");
            return this;
        }

        /** The size of a sandbox's workspace and {@code /tmp} unless its job asks; default 4 GiB. */
        public Builder diskLimitBytes(long diskLimitBytes) {
            this.diskLimitBytes = diskLimitBytes;
            return this;
        }

        /** The first host uid sandboxes run as; default 1,100,000. */
        public Builder sandboxUidBase(int sandboxUidBase) {
            this.sandboxUidBase = sandboxUidBase;
            return this;
        }

        public LocalLauncherOptions build() {
            return new LocalLauncherOptions(
                    bwrap,
                    requireNonNull(command, "command"),
                    readOnlyBinds,
                    requireNonNull(attachSocket, "attachSocket"),
                    memoryLimitBytes,
                    pidsLimit,
                    cpuLimit,
                    requireNonNull(logDirectory, "logDirectory"),
                    diskLimitBytes,
                    sandboxUidBase);
        }
    }
}
