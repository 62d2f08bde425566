package io.nomadshell.controlplane.launch.local;

import io.nomadshell.controlplane.launch.LaunchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's own cgroups, found once. Sandboxes' groups nest under them so they stay inside
 * whatever limits the control plane itself runs under.
 */
final class CgroupHost {
    private static final Logger log = LoggerFactory.getLogger(CgroupHost.class);

    private final SandboxCgroup.@Nullable Dirs own;
    private final String unusable;
    private final AtomicBoolean warned = new AtomicBoolean();

    private CgroupHost(SandboxCgroup.@Nullable Dirs own, String unusable) {
        this.own = own;
        this.unusable = unusable;
    }

    static CgroupHost detect() {
        try {
            return detect(
                    Files.readAllLines(Path.of("/proc/self/mountinfo")),
                    Files.readAllLines(Path.of("/proc/self/cgroup")));
        } catch (IOException e) {
            return new CgroupHost(null, "cannot read this process's cgroups: " + e.getMessage());
        }
    }

    /**
     * Finds the memory, pids and cpu directories of this process from {@code /proc/self/mountinfo}
     * and {@code /proc/self/cgroup}: all three on v1 hierarchies, else the unified v2 one.
     */
    static CgroupHost detect(List<String> mountinfo, List<String> selfCgroup) {
        List<Mount> mounts = mountinfo.stream().map(Mount::parse).flatMap(Optional::stream).toList();
        List<Path> v1 = new ArrayList<>();
        for (String controller : List.of("memory", "pids", "cpu")) {
            ownV1(mounts, selfCgroup, controller).ifPresent(v1::add);
        }
        if (v1.size() == 3) {
            return new CgroupHost(new SandboxCgroup.Dirs(v1.get(0), v1.get(1), v1.get(2), false), "");
        }
        if (!v1.isEmpty()) {
            return new CgroupHost(null, "the memory, pids and cpu controllers are not all on cgroup v1 hierarchies");
        }
        Optional<Path> v2 = mounts.stream()
                .filter(m -> m.type().equals("cgroup2"))
                .flatMap(m -> m.locate(ownPath(selfCgroup, List::isEmpty)).stream())
                .findFirst();
        return v2.map(dir -> new CgroupHost(new SandboxCgroup.Dirs(dir, dir, dir, true), ""))
                .orElseGet(() -> new CgroupHost(null, "no cgroup hierarchy with the memory, pids and cpu controllers"));
    }

    private static Optional<Path> ownV1(List<Mount> mounts, List<String> selfCgroup, String controller) {
        String own = ownPath(selfCgroup, controllers -> controllers.contains(controller));
        return mounts.stream()
                .filter(m -> m.type().equals("cgroup") && m.options().contains(controller))
                .flatMap(m -> m.locate(own).stream())
                .findFirst();
    }

    /** The path in the first {@code /proc/self/cgroup} line whose controller list matches, or "". */
    private static String ownPath(List<String> selfCgroup, Predicate<List<String>> controllers) {
        for (String line : selfCgroup) {
            String[] parts = line.split(":", 3);
            if (parts.length == 3) {
                List<String> names = parts[1].isEmpty() ? List.of() : Arrays.asList(parts[1].split(","));
                if (controllers.test(names)) {
                    return parts[2];
                }
            }
        }
        return "";
    }

    /**
     * Creates the sandbox group of {@code jobId}, or returns null, after warning once, when this host's
     * cgroups cannot be used: the sandbox then runs without limits.
     *
     * @throws LaunchException when a sandbox of the same job still runs
     */
    @Nullable SandboxCgroup create(String jobId, LocalLauncherOptions options) throws LaunchException {
        if (own == null) {
            warnOnce(unusable);
            return null;
        }
        try {
            return SandboxCgroup.create(own, jobId, options);
        } catch (IOException e) {
            warnOnce(e.toString());
            return null;
        }
    }

    /** Removes the empty groups of these jobs and pool members, left by a control plane that died. */
    void removeLeftovers(Collection<String> ids) {
        if (own != null) {
            ids.forEach(id -> SandboxCgroup.removeLeftover(own, id));
        }
    }

    private void warnOnce(String why) {
        if (warned.compareAndSet(false, true)) {
            log.warn("cgroups cannot be used ({}): sandboxes run WITHOUT memory, pids and CPU limits", why);
        } else {
            log.debug("sandbox runs without cgroup limits: {}", why);
        }
    }

    /** One line of {@code /proc/self/mountinfo}, reduced to what locating a cgroup needs. */
    record Mount(String root, Path point, String type, List<String> options) {

        static Optional<Mount> parse(String line) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                return Optional.empty();
            }
            String[] left = line.substring(0, dash).split(" ");
            String[] right = line.substring(dash + 3).split(" ");
            if (left.length < 5 || right.length < 3) {
                return Optional.empty();
            }
            return Optional.of(new Mount(
                    unescape(left[3]), Path.of(unescape(left[4])), right[0], Arrays.asList(right[2].split(","))));
        }

        /** Where cgroup {@code path} is in this mount, if the mount shows it. */
        Optional<Path> locate(String path) {
            if (path.isEmpty() || !(path + "/").startsWith(root.endsWith("/") ? root : root + "/")) {
                return Optional.empty();
            }
            String relative = path.substring(root.length()).replaceFirst("^/+", "");
            return Optional.of(relative.isEmpty() ? point : point.resolve(relative));
        }

        /** mountinfo writes space, tab, newline and backslash as octal escapes. */
        static String unescape(String field) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < field.length(); i++) {
                char c = field.charAt(i);
                if (c == '\\' && i + 3 < field.length()) {
                    out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }
}
