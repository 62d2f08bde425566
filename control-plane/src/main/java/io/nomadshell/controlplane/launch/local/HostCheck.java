package io.nomadshell.controlplane.launch.local;

import io.nomadshell.controlplane.launch.LaunchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * What this host must offer before a sandbox may start as an unprivileged uid: this process is
 * root (to join cgroups, mount and change uid), util-linux's {@code setpriv}, {@code unshare} and
 * {@code mount} are installed, and unprivileged user namespaces are enabled. Without them a launch
 * fails, never falling back to a sandbox whose user is host root.
 */
final class HostCheck {
    static final List<String> TOOLS = List.of("setpriv", "unshare", "mount", "umount", "chown");
    private static final List<String> BIN_DIRS = List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin");
    private static volatile @Nullable String checked;

    private HostCheck() {}

    /** @throws LaunchException saying what this host lacks */
    static void require() throws LaunchException {
        String problem = checked;
        if (problem == null) {
            problem = problemOnThisHost();
            checked = problem;
        }
        if (!problem.isEmpty()) {
            throw new LaunchException(problem);
        }
    }

    private static String problemOnThisHost() {
        try {
            return problem(effectiveUid(),
                    tool -> BIN_DIRS.stream().anyMatch(dir -> Files.isExecutable(Path.of(dir, tool))),
                    sysctl("user/max_user_namespaces"), sysctl("kernel/unprivileged_userns_clone"));
        } catch (IOException e) {
            return "cannot tell whether this host can run sandboxes: " + e.getMessage();
        }
    }

    /**
     * What keeps sandboxes from starting, in words for the user, or "" when nothing does.
     *
     * @param maxUserNamespaces {@code user.max_user_namespaces}, null when the kernel has none
     * @param unprivilegedClone Debian's {@code kernel.unprivileged_userns_clone}, null when absent
     */
    static String problem(String effectiveUid, Predicate<String> installed, @Nullable String maxUserNamespaces,
            @Nullable String unprivilegedClone) {
        if (!effectiveUid.equals("0")) {
            return "local sandboxes run as an unprivileged uid of their own, which only a control plane "
                    + "running as root can give them (this one runs as uid " + effectiveUid + ")";
        }
        for (String tool : TOOLS) {
            if (!installed.test(tool)) {
                return "local sandboxes need util-linux's " + tool + ", which is not installed";
            }
        }
        if ("0".equals(maxUserNamespaces)) {
            return "local sandboxes need user namespaces, which this host disables (user.max_user_namespaces = 0)";
        }
        if ("0".equals(unprivilegedClone)) {
            return "local sandboxes need unprivileged user namespaces, which this host disables "
                    + "(kernel.unprivileged_userns_clone = 0)";
        }
        return "";
    }

    private static @Nullable String sysctl(String name) throws IOException {
        try {
            return Files.readString(Path.of("/proc/sys", name)).strip();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The effective uid from {@code /proc/self/status} ("Uid: real effective saved fs"). */
    private static String effectiveUid() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                return line.substring(4).trim().split("\\s+")[1];
            }
        }
        throw new IOException("/proc/self/status has no Uid line");
    }
}
