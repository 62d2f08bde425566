package io.nomadshell.controlplane.launch.local;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.tunnel.JupyterPath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each job's sandbox as a child process inside bubblewrap, limited by cgroups (memory, pids,
 * CPU) when this host lets it create them, and without limits, after one warning, when not.
 */
public final class LocalLauncher implements SandboxLauncher {
    private static final Logger log = LoggerFactory.getLogger(LocalLauncher.class);

    /** Job ids name files and cgroups. */
    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /**
     * Writes its own pid into each cgroup.procs file given before "--", then becomes the command
     * after it: the sandbox is limited from its first instruction, with no window to fork away.
     */
    private static final String JOIN_CGROUPS =
            "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";

    /**
     * Starts every sandbox process. bwrap's --die-with-parent is PR_SET_PDEATHSIG, which fires when
     * the thread that started the process ends, not the JVM: this thread never ends.
     */
    private static final ExecutorService SPAWNER = new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            Thread.ofPlatform().daemon().name("nomad-shell-sandbox-spawner").factory());

    private final LocalLauncherOptions options;
    private final CgroupHost cgroups;

    LocalLauncher(LocalLauncherOptions options, CgroupHost cgroups) {
        this.options = requireNonNull(options, "options");
        this.cgroups = requireNonNull(cgroups, "cgroups");
    }

    /** A launcher using this process's cgroups, found now. */
    public static LocalLauncher of(LocalLauncherOptions options) {
        return new LocalLauncher(options, CgroupHost.detect());
    }

    @Override
    public Sandbox launch(SandboxSpec spec) throws LaunchException {
        requireNonNull(spec, "spec");
        String jobId = spec.jobId();
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("job id cannot name a sandbox: " + jobId);
        }
        Path bwrap = bwrap();
        Path workspace = workspace(spec.workspace());
        Path attachDir = options.attachSocket().getParent();
        if (!Files.isDirectory(attachDir)) {
            throw new LaunchException("the Attach socket directory " + attachDir + " does not exist");
        }
        Path logFile = logFile(jobId, workspace);
        SandboxEtc etc;
        try {
            etc = SandboxEtc.create();
        } catch (IOException e) {
            throw new LaunchException("the sandbox's /etc could not be written: " + e.getMessage(), e);
        }
        // The job's own memory grant; CPU stays as configured (bubblewrap sandboxes count cores, not MHz).
        var resources = spec.resources();
        var limited = resources == null ? options
                : options.toBuilder().memoryLimitBytes(resources.memoryMb() * (1L << 20)).build();
        @Nullable SandboxCgroup cgroup = null;
        boolean started = false;
        try {
            cgroup = cgroups.create(jobId, limited);
            List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", JOIN_CGROUPS, "nomad-shell-sandbox"));
            if (cgroup != null) {
                cgroup.procsFiles().forEach(file -> argv.add(file.toString()));
            }
            argv.add("--");
            argv.addAll(BwrapCommand.build(bwrap, options, workspace, etc));
            Process process = spawn(argv, logFile, jobId, spec.token());
            started = true;
            log.info("started the sandbox of job {} (pid {}, {} cgroup limits, log {})",
                    jobId, process.pid(), cgroup == null ? "without" : "with", logFile);
            return LocalSandbox.watch(jobId, process, cgroup, etc, logFile, limited.memoryLimitBytes());
        } catch (IOException e) {
            throw new LaunchException("the sandbox could not be started: " + e.getMessage(), e);
        } finally {
            if (!started) {
                if (cgroup != null) {
                    cgroup.remove();
                }
                etc.delete();
            }
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

    private Process spawn(List<String> argv, Path logFile, String jobId, String token) throws IOException {
        // Standard input is a pipe that carries the launch credential, one line, and then closes.
        ProcessBuilder builder = new ProcessBuilder(argv)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.clear();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", BwrapCommand.WORKSPACE);
        env.put("LANG", "C.UTF-8");
        env.put("NOMAD_SHELL_ATTACH",
                "unix://" + BwrapCommand.ATTACH_DIR + "/" + options.attachSocket().getFileName());
        env.put("NOMAD_SHELL_WORKSPACE", BwrapCommand.WORKSPACE);
        // Jupyter serves under the path the gateway proxies to it, or its pages' links break.
        env.put(JupyterPath.ENV, JupyterPath.of(jobId));
        // Never argv (every user of the host reads it) nor env (every tool process inherits it).
        Future<Process> start = SPAWNER.submit(() -> {
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
        });
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return start.get();
                } catch (InterruptedException e) {
                    // Starting takes milliseconds; giving up would leave a sandbox nobody owns.
                    interrupted = true;
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("starting the sandbox failed", e.getCause());
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
