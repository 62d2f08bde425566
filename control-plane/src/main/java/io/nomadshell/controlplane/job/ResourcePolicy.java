package io.nomadshell.controlplane.job;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.JobException.Reason;
import java.time.Duration;
import java.util.List;

/**
 * What a schedule request may ask for its sandbox: the defaults it gets when it asks for nothing,
 * the caps it may not exceed, and the hosts sandboxes may reach through their egress proxy.
 *
 * @param defaults what a job gets for each resource it does not ask for
 * @param maxCpuMhz the most CPU a job may ask for
 * @param minMemoryMb the least memory a sandbox runs in (the agent daemon needs some)
 * @param maxMemoryMb the most memory a job may ask for
 * @param maxTimeout the longest wall time a job may ask for
 * @param egress the hosts a job may ask to reach (and the special addresses allowed all the same)
 * @param maxDiskMb the most disk (workspace, and {@code /tmp}) a job may ask for
 */
public record ResourcePolicy(
        SandboxResources defaults,
        int maxCpuMhz,
        int minMemoryMb,
        int maxMemoryMb,
        Duration maxTimeout,
        EgressPolicy egress,
        int maxDiskMb) {

    /** The smallest workspace a sandbox gets: room for a file system and a small project. */
    public static final int MIN_DISK_MB = 16;

    /** The most disk a job may ask for unless the server says otherwise. */
    public static final int DEFAULT_MAX_DISK_MB = 16384;

    /**
     * The defaults of {@link SandboxResources#DEFAULT}, up to 4 GHz, 256 MiB to 4 GiB, 30 min, no
     * egress, up to 16 GiB of disk.
     */
    public static final ResourcePolicy DEFAULT =
            new ResourcePolicy(SandboxResources.DEFAULT, 4000, 256, 4096, Duration.ofMinutes(30), EgressPolicy.NONE);

    public ResourcePolicy {
        requireNonNull(defaults, "defaults");
        requireNonNull(maxTimeout, "maxTimeout");
        requireNonNull(egress, "egress");
        if (defaults.cpuMhz() > maxCpuMhz || defaults.memoryMb() > maxMemoryMb
                || defaults.memoryMb() < minMemoryMb || defaults.timeout().compareTo(maxTimeout) > 0
                || defaults.diskMb() > maxDiskMb || defaults.diskMb() < MIN_DISK_MB) {
            throw new IllegalArgumentException("the default sandbox resources exceed the caps");
        }
        if (!defaults.egressAllow().isEmpty()) {
            throw new IllegalArgumentException("egress is granted per job, never by default");
        }
    }

    /** A policy whose disk cap is {@link #DEFAULT_MAX_DISK_MB}. */
    public ResourcePolicy(SandboxResources defaults, int maxCpuMhz, int minMemoryMb, int maxMemoryMb,
            Duration maxTimeout, EgressPolicy egress) {
        this(defaults, maxCpuMhz, minMemoryMb, maxMemoryMb, maxTimeout, egress,
                Math.max(DEFAULT_MAX_DISK_MB, defaults.diskMb()));
    }

    /**
     * The resources a request gets: what it asked for, the defaults for the rest.
     *
     * @throws JobException (INVALID_ARGUMENT) when a value is out of bounds, saying which and why
     */
    public SandboxResources grant(SandboxRequest asked) {
        requireNonNull(asked, "asked");
        int cpu = orDefault("cpu_mhz", asked.cpuMhz(), defaults.cpuMhz());
        if (cpu > maxCpuMhz) {
            throw invalid("cpu_mhz " + cpu + " exceeds this server's cap of " + maxCpuMhz + " MHz");
        }
        int memory = orDefault("memory_mb", asked.memoryMb(), defaults.memoryMb());
        if (memory > maxMemoryMb) {
            throw invalid("memory_mb " + memory + " exceeds this server's cap of " + maxMemoryMb + " MiB");
        }
        if (memory < minMemoryMb) {
            throw invalid("memory_mb " + memory + " is below the " + minMemoryMb + " MiB a sandbox needs");
        }
        var timeout = asked.timeoutSeconds() == 0 ? defaults.timeout()
                : Duration.ofSeconds(orDefault("timeout_seconds", asked.timeoutSeconds(), 0));
        if (timeout.compareTo(maxTimeout) > 0) {
            throw invalid("timeout_seconds " + timeout.toSeconds() + " exceeds this server's cap of "
                    + maxTimeout.toSeconds() + " s");
        }
        switch (asked.network()) {
            case "", "none" -> {
                // Sandboxes never have a network.
            }
            case "egress" -> throw invalid("network \"egress\" is no longer offered: sandboxes have no network. "
                    + "Ask for the hosts the job needs with egress.allow instead, e.g. "
                    + "{\"egress\": {\"allow\": [\"pypi.org\"]}}, within this server's --egress-allow");
            default -> throw invalid("network must be none, not '" + asked.network()
                    + "' (sandboxes have no network; ask for hosts with egress.allow)");
        }
        List<String> egressAllow;
        try {
            egressAllow = egress.grant(asked.egressAllow());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        int disk = orDefault("disk_mb", asked.diskMb(), defaults.diskMb());
        if (disk > maxDiskMb) {
            throw invalid("disk_mb " + disk + " exceeds this server's cap of " + maxDiskMb + " MiB");
        }
        if (disk < MIN_DISK_MB) {
            throw invalid("disk_mb " + disk + " is below the " + MIN_DISK_MB + " MiB a sandbox needs");
        }
        return new SandboxResources(cpu, memory, timeout, egressAllow, disk);
    }

    private static int orDefault(String field, int asked, int fallback) {
        if (asked < 0) {
            throw invalid(field + " must not be negative");
        }
        return asked == 0 ? fallback : asked;
    }

    private static JobException invalid(String message) {
        return new JobException(Reason.INVALID_ARGUMENT, message);
    }
}
