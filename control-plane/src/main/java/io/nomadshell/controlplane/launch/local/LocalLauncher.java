package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.MemberSpec;
import io.nomadshell.controlplane.launch.PoolSandbox;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.spawn.ParentBoundSpawner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each job's sandbox as a child process inside bubblewrap, as an unprivileged host uid of its
 * own, under a seccomp filter, on a workspace of its job's disk size, limited by cgroups (memory,
 * pids, CPU) when this host lets it create them, and without limits, after one warning, when not.
 */
public final class LocalLauncher implements SandboxLauncher {
    private static final Logger log = LoggerFactory.getLogger(LocalLauncher.class);

    /** Job ids name files and cgroups. */
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** Where the locks that hold sandbox uids live: one host-wide place for every server on it. */
    private static final Path UID_LOCKS = Path.of("/run/nomad-shell/sandbox-uids");

    /** Sandboxes closed at once when the server stops. */
    private static final int STOPPERS = 8;

    private final LocalLauncherOptions options;
    private final CgroupHost cgroups;
    private final SandboxUids uids;
    private final AtomicBoolean diskWarned = new AtomicBoolean();
    /** Workspaces mounted by this launcher's running sandboxes. */
    private final Set<Path> mounted = ConcurrentHashMap.newKeySet();
    /** The sandboxes started and not yet closed, by job or pool member id. */
    private final Map<String, LocalSandbox> live = new ConcurrentHashMap<>();
    private @Nullable Path privateDir;

    LocalLauncher(LocalLauncherOptions options, CgroupHost cgroups, SandboxUids uids) {
        this.options = requireNonNull(options, "options");
        this.cgroups = requireNonNull(cgroups, "cgroups");
        this.uids = requireNonNull(uids, "uids");
    }

    /** A launcher using this process's cgroups, found now. */
    public static LocalLauncher of(LocalLauncherOptions options) {
        return of(options, CgroupHost.detect());
    }

    static LocalLauncher of(LocalLauncherOptions options, CgroupHost cgroups) {
        return new LocalLauncher(options, cgroups,
                new SandboxUids(options.sandboxUidBase(), SandboxUids.DEFAULT_COUNT, UID_LOCKS));
    }

    @Override
    public Sandbox launch(SandboxSpec spec) throws LaunchException {
        requireNonNull(spec, "spec");
        return start(spec.jobId(), workspace(spec.workspace()), spec.resources(), spec.token(), null);
    }

    /** A sandbox on an empty workspace of its own, its daemon attaching as the pool member; see {@link PoolSlot}. */
    @Override
    public PoolSandbox startMember(MemberSpec spec) throws LaunchException {
        requireNonNull(spec, "spec");
        checkId(spec.memberId());
        PoolSlot slot;
        try {
            slot = PoolSlot.create(spec.workspaces().toRealPath(), spec.memberId());
        } catch (IOException e) {
            throw new LaunchException("the warm-pool workspace could not be made: " + e.getMessage(), e);
        }
        Instant startedAt = Instant.now();
        LocalSandbox sandbox;
        try {
            sandbox = start(spec.memberId(), slot.dir(), spec.resources(), spec.token(), slot);
        } catch (LaunchException | RuntimeException e) {
            slot.close();
            throw e;
        }
        return new LocalPoolMember(sandbox, slot, logFile(spec.memberId(), slot.dir()), startedAt);
    }

    /**
     * Starts the sandbox of {@code id} (a job, or a pool member holding {@code slot}, released after its
     * disk) on {@code workspace}.
     */
    private LocalSandbox start(String id, Path workspace, @Nullable SandboxResources resources, String token,
            @Nullable PoolSlot slot) throws LaunchException {
        checkId(id);
        Path bwrap = bwrap();
        HostCheck.require();
        Path seccomp = seccompFilter();
        Path attachDir = options.attachSocket().getParent();
        if (!Files.isDirectory(attachDir)) {
            throw new LaunchException("the Attach socket directory " + attachDir + " does not exist");
        }
        Path logFile = logFile(id, workspace);
        // The job's own memory and disk grants; CPU stays as configured (bubblewrap sandboxes count cores, not MHz).
        var limited = resources == null ? options : options.toBuilder()
                .memoryLimitBytes(resources.memoryMb() * (1L << 20))
                .diskLimitBytes(resources.diskMb() * (1L << 20))
                .build();
        List<AutoCloseable> held = new ArrayList<>();
        @Nullable SandboxCgroup cgroup = null;
        boolean started = false;
        try {
            SandboxUids.Lease uid = uids.take();
            held.add(uid);
            if (slot != null) {
                held.add(slot);
            }
            @Nullable WorkspaceDisk disk = mountDisk(workspace, limited.diskLimitBytes(), uid.uid());
            if (disk != null) {
                mounted.add(workspace);
                held.add(disk);
                held.add(() -> mounted.remove(workspace));
            }
            // What the sandbox made under the uid of an earlier run (a resumed job) becomes this one's.
            HostCommand.run("chown", "-R", "-h", uid.uid() + ":" + uid.uid(), workspace.toString());
            openAttachSocket(options.attachSocket());
            SandboxEtc etc = SandboxEtc.create();
            held.add(etc::delete);
            SandboxStage stage = SandboxStage.create(privateDir(), id);
            held.add(stage::delete);
            cgroup = cgroups.create(id, limited);
            var host = new BwrapCommand.Host(bwrap, seccomp, cgroup == null ? List.of() : cgroup.procsFiles(),
                    workspace, etc, uid.uid(), limited.diskLimitBytes());
            Process process = spawn(BwrapCommand.build(options, host, stage), logFile, token);
            started = true;
            log.info("started the {} of {} (pid {}, uid {}, {} cgroup limits, {} disk cap, log {})",
                    slot == null ? "sandbox" : "warm-pool sandbox", id, process.pid(), uid.uid(),
                    cgroup == null ? "without" : "with",
                    disk == null ? "no" : limited.diskLimitBytes() / (1L << 20) + " MiB", logFile);
            held.add(() -> live.remove(id));
            // Released in reverse: no longer live, the stage and /etc files, the workspace mount, the pool
            // slot, then the uid.
            LocalSandbox sandbox = LocalSandbox.watch(id, process, cgroup, held.reversed(), logFile, workspace,
                    limited.memoryLimitBytes());
            live.put(id, sandbox);
            return sandbox;
        } catch (IOException e) {
            throw new LaunchException("the sandbox could not be started: " + e.getMessage(), e);
        } finally {
            if (!started) {
                if (cgroup != null) {
                    cgroup.remove();
                }
                // The caller releases the slot of a member that did not start.
                held.remove(slot);
                LocalSandbox.release(id, held.reversed());
            }
        }
    }

    private static void checkId(String id) {
        if (!JOB_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("job id cannot name a sandbox: " + id);
        }
    }

    /**
     * Workspace mounts and cgroups a dead control plane left: its sandboxes died with it (bubblewrap's
     * parent-death signal), their mounts and groups did not. Its jobs and pool members are named by
     * the workspaces they left.
     */
    @Override
    public void reclaimLeftovers(Path workspaces) {
        requireNonNull(workspaces, "workspaces");
        if (WorkspaceDisk.available()) {
            WorkspaceDisk.unmountStale(workspaces, List.copyOf(mounted));
        }
        PoolSlot.reclaim(workspaces);
        cgroups.removeLeftovers(leftIds(workspaces));
    }

    /**
     * Closes the sandboxes still running, {@value #STOPPERS} at a time (each close waits on the kernel
     * and forks {@code umount}: hundreds at once only queue on two cores), and waits for closes already
     * under way. Each close releases its workspace mount whatever else went wrong.
     */
    @Override
    public void stopEverySandbox() {
        List<LocalSandbox> left = List.copyOf(live.values());
        if (left.isEmpty()) {
            return;
        }
        log.info("stopping the {} sandboxes still running", left.size());
        try (var stoppers = Executors.newFixedThreadPool(STOPPERS, Thread.ofVirtual().name("sandbox-stop-", 0).factory())) {
            left.forEach(sandbox -> stoppers.execute(sandbox::close));
        }
    }

    private static List<String> leftIds(Path workspaces) {
        try (Stream<Path> entries = Files.list(workspaces)) {
            return entries.map(entry -> entry.getFileName().toString())
                    .filter(name -> JOB_ID.matcher(name).matches())
                    .toList();
        } catch (IOException e) {
            log.warn("cannot list the workspaces in {}: {}", workspaces, e.getMessage());
            return List.of();
        }
    }

    /**
     * Mounts the workspace's own file system of {@code bytes}, or returns null, after warning once,
     * when this host cannot: the sandbox then runs without a disk cap.
     */
    private @Nullable WorkspaceDisk mountDisk(Path workspace, long bytes, int uid) {
        if (!WorkspaceDisk.available()) {
            warnDiskOnce("this host has no loop devices (/dev/loop-control)");
            return null;
        }
        try {
            return WorkspaceDisk.mount(workspace, bytes, uid);
        } catch (IOException e) {
            warnDiskOnce(e.getMessage());
            return null;
        }
    }

    private void warnDiskOnce(@Nullable String why) {
        if (diskWarned.compareAndSet(false, true)) {
            log.warn("a workspace disk image cannot be mounted ({}): sandboxes run WITHOUT a disk cap", why);
        } else {
            log.debug("sandbox runs without a disk cap: {}", why);
        }
    }

    /**
     * Lets the sandbox's uid reach the Attach socket: through its directory (search only) and to the
     * socket itself. The socket is the control plane's own, made by its server after this launcher
     * started; every daemon must still present its job's credential.
     */
    private static void openAttachSocket(Path socket) throws IOException {
        Path dir = requireNonNull(socket.getParent(), "socket directory");
        Set<PosixFilePermission> search = EnumSet.copyOf(Files.getPosixFilePermissions(dir));
        search.addAll(Set.of(PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE));
        Files.setPosixFilePermissions(dir, search);
        if (Files.exists(socket)) {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        }
    }

    /** This launcher's own directory: the seccomp filter and the sandboxes' stages. */
    private synchronized Path privateDir() throws IOException {
        if (privateDir == null) {
            Path dir = Files.createTempDirectory("nomad-shell-launcher-");
            // Root's; every uid may pass through to its stage, none may list or write.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            dir.toFile().deleteOnExit();
            privateDir = dir;
        }
        return privateDir;
    }

    /** The seccomp program, written once per launcher; only root (the wrapper) opens it. */
    private synchronized Path seccompFilter() throws LaunchException {
        SeccompFilter.Arch arch = SeccompFilter.Arch.host();
        if (arch == null) {
            throw new LaunchException("sandboxes need a seccomp filter, which this launcher has only for x86-64 and "
                    + "aarch64, not " + System.getProperty("os.arch"));
        }
        try {
            Path file = privateDir().resolve("seccomp.bpf");
            if (!Files.exists(file)) {
                Files.write(file, SeccompFilter.program(arch));
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                file.toFile().deleteOnExit();
            }
            return file;
        } catch (IOException e) {
            throw new LaunchException("the seccomp filter could not be written: " + e.getMessage(), e);
        }
    }

    private Path bwrap() throws LaunchException {
        String name = options.bwrap();
        Stream<Path> candidates = name.contains("/")
                ? Stream.of(Path.of(name))
                : Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                        .filter(dir -> !dir.isEmpty())
                        .map(dir -> Path.of(dir, name));
        return candidates
                .filter(path -> Files.isRegularFile(path) && Files.isExecutable(path))
                .map(Path::toAbsolutePath)
                .findFirst()
                .orElseThrow(() -> new LaunchException("bubblewrap (" + name + ") is not installed on this machine"));
    }

    private static Path workspace(Path workspace) throws LaunchException {
        try {
            return workspace.toRealPath();
        } catch (IOException e) {
            throw new LaunchException("the workspace " + workspace + " does not exist", e);
        }
    }

    /** The log lives outside the workspace, where the sandbox cannot rewrite what it said. */
    private Path logFile(String jobId, Path workspace) throws LaunchException {
        Path directory;
        try {
            directory = Files.createDirectories(options.logDirectory()).toRealPath();
        } catch (IOException e) {
            throw new LaunchException("the sandbox log directory could not be created: " + e.getMessage(), e);
        }
        if (directory.startsWith(workspace)) {
            throw new LaunchException("the sandbox log directory " + directory + " is inside the workspace");
        }
        return directory.resolve(jobId + ".log");
    }

    private Process spawn(List<String> argv, Path logFile, String token) throws IOException {
        // Standard input is a pipe that carries the launch credential, one line, and then closes.
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", BwrapCommand.HOME);
        env.put("LANG", "C.UTF-8");
        env.put("NOMAD_SHELL_ATTACH",
                "unix://" + BwrapCommand.ATTACH_DIR + "/" + options.attachSocket().getFileName());
        env.put("NOMAD_SHELL_WORKSPACE", BwrapCommand.WORKSPACE);
        // Never argv (every user of the host reads it) nor env (every tool process inherits it).
        // bwrap's --die-with-parent is PR_SET_PDEATHSIG: the spawner's thread outlives every sandbox.
        return ParentBoundSpawner.start(() -> {
            var process = builder.start();
            try (var stdin = process.getOutputStream()) {
                stdin.write((token + "\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // A sandbox that already ended says why in its exit reason; one that runs without its
                // credential is of no use.
                if (process.isAlive()) {
                    process.destroyForcibly();
                    throw e;
                }
            }
            return process;
        }, "the sandbox");
    }
}
