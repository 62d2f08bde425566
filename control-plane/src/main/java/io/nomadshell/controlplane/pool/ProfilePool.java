package io.nomadshell.controlplane.pool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxRequest;
import io.nomadshell.controlplane.job.SandboxResources;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A warm pool for one sandbox profile other than the default: {@code size} members started with
 * {@code resources}, claimed only by jobs granted exactly those (CPU, memory, disk and egress hosts;
 * the wall time is the job's own).
 *
 * @param resources the profile, as a job asking for it is granted it
 * @param size idle members kept ready
 */
public record ProfilePool(SandboxResources resources, int size) {
    /** The syntax of {@link #parse}, for error messages and help. */
    public static final String SYNTAX = "cpu=MHZ,memory=MIB,disk=MIB,egress=HOST+HOST:SIZE";

    public ProfilePool {
        requireNonNull(resources, "resources");
        if (size <= 0) {
            throw new IllegalArgumentException("a profile's warm pool needs a size of 1 or more");
        }
    }

    /** Whether a job granted {@code wanted} runs in this profile's sandboxes. */
    public boolean serves(SandboxResources wanted) {
        return ofProfile(resources, wanted);
    }

    static boolean ofProfile(SandboxResources profile, SandboxResources wanted) {
        return wanted.cpuMhz() == profile.cpuMhz() && wanted.memoryMb() == profile.memoryMb()
                && wanted.diskMb() == profile.diskMb()
                && Set.copyOf(wanted.egressAllow()).equals(Set.copyOf(profile.egressAllow()));
    }

    /** The profile in the syntax of {@link #parse}, without the size: what metrics label its pool with. */
    public String label() {
        return label(resources);
    }

    static String label(SandboxResources resources) {
        return "cpu=" + resources.cpuMhz() + ",memory=" + resources.memoryMb() + ",disk=" + resources.diskMb()
                + ",egress=" + (resources.egressAllow().isEmpty() ? "none" : String.join("+", resources.egressAllow()));
    }

    /**
     * Reads {@code cpu=2000,memory=2048:3}: the resources a job would ask for (those left out are the
     * server's defaults, {@code egress} names hosts joined by {@code +}), a colon, the pool's size.
     * The profile is granted by {@code policy} as a job's request would be, so it is one a job can get.
     *
     * @throws IllegalArgumentException saying what is wrong, in words for the person who wrote it
     */
    public static ProfilePool parse(String spec, ResourcePolicy policy) {
        requireNonNull(spec, "spec");
        requireNonNull(policy, "policy");
        int colon = spec.lastIndexOf(':');
        if (colon < 0) {
            throw invalid(spec, "it ends with no :SIZE");
        }
        int size = number(spec, "SIZE", spec.substring(colon + 1));
        int cpu = 0;
        int memory = 0;
        int disk = 0;
        List<String> egress = new ArrayList<>();
        for (var part : spec.substring(0, colon).split(",")) {
            var pair = part.strip().split("=", 2);
            if (pair.length != 2 || pair[1].isBlank()) {
                throw invalid(spec, "'" + part.strip() + "' is not key=value");
            }
            var value = pair[1].strip();
            switch (pair[0].strip()) {
                case "cpu" -> cpu = number(spec, "cpu", value);
                case "memory" -> memory = number(spec, "memory", value);
                case "disk" -> disk = number(spec, "disk", value);
                case "egress" -> {
                    if (!value.equals("none")) {
                        egress.addAll(List.of(value.split("\\+")));
                    }
                }
                default -> throw invalid(spec, "'" + pair[0].strip() + "' is none of cpu, memory, disk, egress");
            }
        }
        try {
            return new ProfilePool(policy.grant(new SandboxRequest(cpu, memory, 0, "", egress, disk)), size);
        } catch (JobException | IllegalArgumentException e) {
            throw invalid(spec, e.getMessage());
        }
    }

    private static int number(String spec, String what, String text) {
        try {
            int value = Integer.parseInt(text.strip());
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // Said below.
        }
        throw invalid(spec, what + " must be a whole number above 0, not '" + text.strip() + "'");
    }

    private static IllegalArgumentException invalid(String spec, String why) {
        return new IllegalArgumentException("warm-pool profile '" + spec + "' (" + SYNTAX + "): " + why);
    }
}
