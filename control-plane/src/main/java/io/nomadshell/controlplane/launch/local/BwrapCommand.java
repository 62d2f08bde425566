package io.nomadshell.controlplane.launch.local;

import io.nomadshell.controlplane.launch.local.LocalLauncherOptions.ReadOnlyBind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The argv that starts one sandbox, from the control plane (root) to the command inside:
 * <ol>
 *   <li>{@code sh} as root joins the sandbox's cgroups and opens the seccomp filter as fd 3;
 *   <li>{@code unshare} gives it a mount namespace of its own, where {@code sh} binds the host paths
 *       onto the {@link SandboxStage};
 *   <li>{@code setpriv} becomes the sandbox's host uid and gid, with no groups and no capabilities;
 *   <li>unprivileged {@code bwrap} maps uid 1000 inside to that uid and builds the sandbox.
 * </ol>
 * Each step {@code exec}s the next, so the sandbox keeps the pid the control plane started.
 */
final class BwrapCommand {

    static final String WORKSPACE = "/workspace";
    /** The sandbox user's home, outside the workspace: tools' caches and settings stay out of the zip. */
    static final String HOME = "/home/sandbox";
    static final String ATTACH_DIR = "/run/nomad-shell";
    /** The uid and gid of the {@code sandbox} user inside (see {@link SandboxEtc}). */
    static final String INSIDE_ID = "1000";
    private static final String SECCOMP_FD = "3";

    /**
     * As root: writes its pid into each cgroup.procs file given before "--" (the sandbox is limited
     * from its first instruction, with no window to fork away), opens the seccomp filter named next
     * as fd 3 for bwrap's --seccomp, then becomes the command after it.
     */
    private static final String AS_ROOT =
            "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; "
                    + "exec 3<\"$1\" || exit 125; shift; exec \"$@\"";

    /** In the sandbox's mount namespace: binds each source onto its stage mount point, then runs the rest. */
    private static final String BIND_STAGE =
            "while [ \"$1\" != -- ]; do mount --bind \"$1\" \"$2\" || exit 125; shift 2; done; shift; exec \"$@\"";

    private final List<String> args = new ArrayList<>();

    private BwrapCommand() {}

    /** Where things are on the host for one sandbox. */
    record Host(Path bwrap, Path seccomp, List<Path> cgroupProcs, Path workspace, SandboxEtc etc, int uid,
            long tmpBytes) {}

    /**
     * The whole argv. Fills {@code stage} with the host paths the sandbox binds.
     */
    static List<String> build(LocalLauncherOptions options, Host host, SandboxStage stage) throws IOException {
        BwrapCommand c = new BwrapCommand();
        c.add("/bin/sh", "-c", AS_ROOT, "nomad-shell-sandbox");
        host.cgroupProcs().forEach(file -> c.add(file.toString()));
        c.add("--", host.seccomp().toString());
        c.add("unshare", "--mount", "--propagation", "private", "--");
        List<String> bwrap = c.bwrap(options, host, stage);
        c.add("/bin/sh", "-c", BIND_STAGE, "nomad-shell-stage");
        c.args.addAll(stage.binds());
        c.add("--");
        String id = Integer.toString(host.uid());
        c.add("setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--");
        c.args.addAll(bwrap);
        return List.copyOf(c.args);
    }

    private List<String> bwrap(LocalLauncherOptions options, Host host, SandboxStage stage) throws IOException {
        BwrapCommand c = new BwrapCommand();
        c.add(host.bwrap().toString());
        // --unshare-all only tries the user and cgroup namespaces; insist on them instead.
        c.add("--unshare-all", "--unshare-user", "--unshare-cgroup");
        c.add("--die-with-parent", "--new-session", "--cap-drop", "ALL");
        // No user namespaces inside (a way to capabilities over new mounts), and the calls of SeccompFilter refused.
        c.add("--disable-userns", "--seccomp", SECCOMP_FD);
        c.add("--uid", INSIDE_ID, "--gid", INSIDE_ID, "--hostname", "sandbox");
        c.add("--ro-bind", "/usr", "/usr");
        for (String dir : List.of("bin", "lib", "lib64", "sbin")) {
            Path path = Path.of("/", dir);
            if (Files.isSymbolicLink(path)) {
                c.add("--symlink", Files.readSymbolicLink(path).toString(), path.toString());
            } else if (Files.isDirectory(path)) {
                c.roBind(path, path);
            }
        }
        for (Path entry : SandboxEtc.hostEntries()) {
            c.roBind(entry, entry);
        }
        Path etc = stage.add("etc", host.etc().dir());
        for (String name : SandboxEtc.GENERATED) {
            c.roBind(etc.resolve(name), Path.of("/etc", name));
        }
        // /proc/sys read-only: no sysctl of the host (or of the sandbox's namespaces) is the sandbox's to set.
        c.add("--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev");
        // A tmpfs counts against the sandbox's memory limit too: /tmp and the home are bounded by both.
        c.add("--size", Long.toString(host.tmpBytes()), "--tmpfs", "/tmp");
        c.add("--size", Long.toString(host.tmpBytes()), "--tmpfs", HOME);
        c.add("--bind", stage.add("workspace", host.workspace()).toString(), WORKSPACE, "--chdir", WORKSPACE);
        // The directory, not the socket file: a control plane restart re-creates the socket.
        c.roBind(stage.add("attach", options.attachSocket().getParent()), Path.of(ATTACH_DIR));
        int n = 0;
        for (ReadOnlyBind bind : options.readOnlyBinds()) {
            c.roBind(stage.add("ro-" + n++, bind.host()), bind.sandbox());
        }
        // The root (a tmpfs bwrap made to hold the mounts above) read-only: what the sandbox writes
        // goes to its workspace, /tmp or its home, which have a size, not into memory no cap counts.
        c.add("--remount-ro", "/");
        c.add("--");
        c.args.addAll(options.command());
        return c.args;
    }

    private void roBind(Path host, Path sandbox) {
        add("--ro-bind", host.toString(), sandbox.toString());
    }

    private void add(String... more) {
        args.addAll(List.of(more));
    }
}
