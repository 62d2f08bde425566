package io.nomadshell.controlplane.quota;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxRequest;
import io.nomadshell.controlplane.job.SandboxResources;

/**
 * The limits of one API key; 0 means no limit. Counted at schedule time: a key whose jobs queued or
 * running number {@code runningJobs}, whose queued ones number {@code queuedJobs}, or that used its
 * tokens or dollars of the current UTC day, gets no new job until one ends or the day does.
 *
 * @param name what the key is called in usage, metrics and messages (never the key itself)
 * @param runningJobs the most of the key's jobs queued or running at once (every one admitted may run)
 * @param queuedJobs the most of them waiting for the server to start them
 * @param tokensPerDay the most model tokens (prompt and completion) its jobs use in a UTC day
 * @param usdPerDay the most US dollars of model use in a UTC day (from the server's price table)
 * @param maxCpuMhz the most CPU a job of the key may ask for
 * @param maxMemoryMb the most memory a job of the key may ask for
 */
public record KeyQuota(String name, int runningJobs, int queuedJobs, long tokensPerDay, double usdPerDay,
        int maxCpuMhz, int maxMemoryMb) {

    public KeyQuota {
        requireNonNull(name, "name");
        if (runningJobs < 0 || queuedJobs < 0 || tokensPerDay < 0 || usdPerDay < 0 || maxCpuMhz < 0 || maxMemoryMb < 0) {
            throw new IllegalArgumentException("the limits of key " + name + " must not be negative");
        }
    }

    /** A key without limits. */
    public static KeyQuota unlimited(String name) {
        return new KeyQuota(name, 0, 0, 0, 0, 0, 0);
    }

    /**
     * The server's policy narrowed to this key's CPU and memory caps; a job that asks for nothing gets
     * the server's default or the key's cap, whichever is less.
     *
     * @throws JobException (INVALID_ARGUMENT) when {@code asked} names more than the key's cap, saying so
     */
    public ResourcePolicy narrow(ResourcePolicy server, SandboxRequest asked) {
        int cpuCap = maxCpuMhz == 0 ? server.maxCpuMhz() : Math.min(server.maxCpuMhz(), maxCpuMhz);
        int memoryCap = maxMemoryMb == 0 ? server.maxMemoryMb()
                : Math.max(server.minMemoryMb(), Math.min(server.maxMemoryMb(), maxMemoryMb));
        if (asked.cpuMhz() > cpuCap && cpuCap < server.maxCpuMhz()) {
            throw new JobException(Reason.INVALID_ARGUMENT, "cpu_mhz " + asked.cpuMhz()
                    + " exceeds the cap of API key " + name + ": " + cpuCap + " MHz");
        }
        if (asked.memoryMb() > memoryCap && memoryCap < server.maxMemoryMb()) {
            throw new JobException(Reason.INVALID_ARGUMENT, "memory_mb " + asked.memoryMb()
                    + " exceeds the cap of API key " + name + ": " + memoryCap + " MiB");
        }
        var defaults = server.defaults();
        return new ResourcePolicy(new SandboxResources(Math.min(defaults.cpuMhz(), cpuCap),
                Math.min(defaults.memoryMb(), memoryCap), defaults.timeout(), defaults.egressAllow(), defaults.diskMb()),
                cpuCap, server.minMemoryMb(), memoryCap, server.maxTimeout(), server.egress(), server.maxDiskMb());
    }
}
