package io.nomadshell.controlplane.launch.local;

import io.nomadshell.controlplane.launch.local.LocalLauncherOptions.ReadOnlyBind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The bubblewrap argv for one sandbox. */
final class BwrapCommand {

    static final String WORKSPACE = "/workspace";
    static final String ATTACH_DIR = "/run/nomad-shell";

    private final List<String> args = new ArrayList<>();

    private BwrapCommand() {}

    /**
     * @param bwrap the resolved bwrap executable
     * @param workspace the host workspace, bound read-write at {@link #WORKSPACE}
     * @param etc the sandbox's generated {@code /etc} files
     */
    static List<String> build(Path bwrap, LocalLauncherOptions options, Path workspace, SandboxEtc etc)
            throws IOException {
        BwrapCommand c = new BwrapCommand();
        c.add(bwrap.toString());
        // --unshare-all only tries the user and cgroup namespaces; insist on them instead.
        c.add("--unshare-all", "--unshare-user", "--unshare-cgroup");
        c.add("--die-with-parent", "--new-session", "--cap-drop", "ALL");
        c.add("--uid", "1000", "--gid", "1000", "--hostname", "sandbox");
        c.add("--ro-bind", "/usr", "/usr");
        for (String dir : List.of("bin", "lib", "lib64", "sbin")) {
            Path host = Path.of("/", dir);
            if (Files.isSymbolicLink(host)) {
                c.add("--symlink", Files.readSymbolicLink(host).toString(), host.toString());
            } else if (Files.isDirectory(host)) {
                c.roBind(host, host);
            }
        }
        for (Path entry : SandboxEtc.hostEntries()) {
            c.roBind(entry, entry);
        }
        for (String name : SandboxEtc.GENERATED) {
            c.roBind(etc.dir().resolve(name), Path.of("/etc", name));
        }
        c.add("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
        c.add("--bind", workspace.toString(), WORKSPACE, "--chdir", WORKSPACE);
        // The directory, not the socket file: a control plane restart re-creates the socket.
        c.roBind(options.attachSocket().getParent(), Path.of(ATTACH_DIR));
        for (ReadOnlyBind bind : options.readOnlyBinds()) {
            c.roBind(bind.host(), bind.sandbox());
        }
        c.add("--");
        c.args.addAll(options.command());
        return List.copyOf(c.args);
    }

    private void roBind(Path host, Path sandbox) {
        add("--ro-bind", host.toString(), sandbox.toString());
    }

    private void add(String... more) {
        args.addAll(List.of(more));
    }
}
