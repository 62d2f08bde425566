package io.nomadshell.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * What a server's sandboxes may leave on the host: processes, workspace mounts under its data dir,
 * and cgroups named after its jobs. Sandboxes' cgroups nest under the server's, which is this JVM's
 * (a child process inherits it).
 */
final class Leftovers {
    private Leftovers() {}

    /** Processes whose command line names the data dir: the server, its embedded Redis. */
    static List<Long> processesOn(Path dataDir) {
        return Fixtures.processesWith(dataDir.toString());
    }

    /** Processes, zombies too, in the sandbox cgroup of any of these jobs: bubblewrap and all below it. */
    static List<Long> processesIn(Collection<String> ids) {
        var found = new ArrayList<Long>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (var dir : (Iterable<Path>) dirs::iterator) {
                var name = dir.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    var groups = Files.readAllLines(dir.resolve("cgroup"));
                    if (ids.stream().anyMatch(id -> groups.stream().anyMatch(line -> line.endsWith("/nomad-shell/" + id)))) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** Mount points at or under the data dir. */
    static List<String> mountsUnder(Path dataDir) {
        var found = new ArrayList<String>();
        try {
            for (var line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                var fields = line.split(" ");
                if (fields.length > 4 && (fields[4] + "/").startsWith(dataDir + "/")) {
                    found.add(fields[4]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** The sandbox cgroups ({@code nomad-shell/<id>}, in any controller) of these jobs or pool members. */
    static List<Path> cgroupsOf(Collection<String> ids) {
        var found = new ArrayList<Path>();
        for (var parent : sandboxParents()) {
            for (var id : ids) {
                var dir = parent.resolve(id);
                if (Files.isDirectory(dir)) {
                    found.add(dir);
                }
            }
        }
        return found;
    }

    /** {@code nomad-shell} under this process's cgroup in each hierarchy mounted under /sys/fs/cgroup. */
    private static List<Path> sandboxParents() {
        var parents = new ArrayList<Path>();
        try {
            for (var line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                var parts = line.split(":", 3);
                if (parts.length < 3) {
                    continue;
                }
                var own = parts[2].replaceFirst("^/+", "");
                var mounts = parts[1].isEmpty() ? List.of("", "unified") : Arrays.asList(parts[1].split(","));
                for (var mount : mounts) {
                    var parent = Path.of("/sys/fs/cgroup", mount, own, "nomad-shell");
                    if (Files.isDirectory(parent)) {
                        parents.add(parent);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return parents;
    }
}
