package io.nomadshell.controlplane.launch.local;

import io.nomadshell.controlplane.launch.LaunchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What this host must offer before a sandbox may start as an unprivileged uid: this process is
 * root (to join cgroups, mount and change uid), util-linux's {@code setpriv}, {@code unshare} and
 * {@code mount} are installed, and unprivileged user namespaces are enabled. Without them a launch
 * fails, never falling back to a sandbox whose user is host root.
 */
final class HostCheck {
    private static final List<String> TOOLS = List.of("setpriv", "unshare", "mount", "umount", "chown");
    private static volatile @Nullable String checked;

    private HostCheck() {}

    /** @throws LaunchException saying what is missing */
    static void require() throws LaunchException {
        String problem = checked;
        if (problem == null) {
            problem = find();
            checked = problem;
        }
        if (!problem.isEmpty()) {
            throw new LaunchException(problem);
        }
    }

    private static String find() {
        try {
            if (!effectiveUid().equals("0")) {
                return "local sandboxes run as an unprivileged uid of their own, which only a control plane "
                        + "running as root can give them (this one runs as uid " + effectiveUid() + ")";
            }
            for (String tool : TOOLS) {
                if (List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin").stream()
                        .noneMatch(dir -> Files.isExecutable(Path.of(dir, tool)))) {
                    return "local sandboxes need util-linux's " + tool + ", which is not installed";
                }
            }
            Path limit = Path.of("/proc/sys/user/max_user_namespaces");
            if (Files.exists(limit) && Files.readString(limit).strip().equals("0")) {
                return "local sandboxes need user namespaces, which this host disables (user.max_user_namespaces = 0)";
            }
            Path debian = Path.of("/proc/sys/kernel/unprivileged_userns_clone");
            if (Files.exists(debian) && Files.readString(debian).strip().equals("0")) {
                return "local sandboxes need unprivileged user namespaces, which this host disables "
                        + "(kernel.unprivileged_userns_clone = 0)";
            }
            return "";
        } catch (IOException e) {
            return "cannot tell whether this host can run sandboxes: " + e.getMessage();
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
