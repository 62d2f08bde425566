package io.nomadshell.controlplane.launch.local;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxSpec;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real bubblewrap sandboxes, real cgroups, real processes. */
class LocalLauncherTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final long MIB = 1L << 20;

    @TempDir
    Path tmp;

    private Path workspace;
    private Path socketDir;
    private String token;

    @BeforeEach
    void setUp() throws IOException {
        workspace = Files.createDirectories(tmp.resolve("workspace"));
        socketDir = Files.createDirectories(tmp.resolve("run"));
        token = "token-" + UUID.randomUUID();
    }

    @Test
    void sandboxIsIsolated() throws Exception {
        Path daemonDir = Files.createDirectories(tmp.resolve("daemon"));
        Files.writeString(daemonDir.resolve("daemon.txt"), "daemon-file\n");
        Path hostTmpMarker = Files.createTempFile(Path.of("/tmp"), "nomad-shell-host-only-", "");
        try (Sandbox sandbox = launch("isolated", options("""
                echo "uid=$(id -u) user=$(whoami) home=$HOME pwd=$(pwd)"
                echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,)"
                grep CapEff /proc/self/status
                touch /usr/escape 2>/dev/null && echo usr=writable || echo usr=read-only
                echo written > /workspace/inside.txt
                test -e %1$s && echo tmp=shared || echo tmp=private
                echo private > /tmp/%2$s && echo tmp=writable
                mkdir -p "$HOME/.cache" && echo cached > "$HOME/.cache/probe" && echo home=writable
                test -e /etc/shadow && echo shadow=visible || echo shadow=absent
                test -e /etc/ssl/private && echo ssl-private=visible || echo ssl-private=absent
                echo "hostname=$(uname -n) pids=$(ls /proc | grep -c '^[0-9]')"
                cat /opt/nomad-shell/daemon/daemon.txt
                touch /opt/nomad-shell/daemon/x 2>/dev/null && echo daemon=writable || echo daemon=read-only
                echo "env=$(tr '\\0' '\\n' < /proc/$$/environ | cut -d= -f1 | sort | tr '\\n' ,)"
                read -r stdin_token; echo "token=$stdin_token"
                echo ready > /workspace/ready
                exec sleep 60
                """.formatted(hostTmpMarker, hostTmpMarker.getFileName() + "-inside"))
                .readOnlyBind(daemonDir, Path.of("/opt/nomad-shell/daemon"))
                .build())) {
            awaitFile(workspace.resolve("ready"));
            String log = log(sandbox);

            assertThat(log).contains("uid=1000 user=sandbox home=/home/sandbox pwd=/workspace");
            assertThat(log).contains("home=writable");
            assertThat(workspace.resolve(".cache")).as("the home is not the workspace").doesNotExist();
            assertThat(log).contains("ifaces=lo,");
            assertThat(log).contains("CapEff:\t0000000000000000");
            assertThat(log).contains("usr=read-only");
            assertThat(workspace.resolve("inside.txt")).hasContent("written");
            assertThat((int) Files.getAttribute(workspace.resolve("inside.txt"), "unix:uid"))
                    .as("host owner of a file the sandbox made").isGreaterThanOrEqualTo(SandboxUids.DEFAULT_BASE);
            assertThat(log).contains("tmp=private", "tmp=writable");
            assertThat(Path.of(hostTmpMarker + "-inside")).doesNotExist();
            assertThat(log).contains("shadow=absent", "ssl-private=absent");
            assertThat(log).contains("hostname=sandbox pids=");
            assertThat(Integer.parseInt(value(log, "pids"))).as("processes visible inside").isLessThan(10);
            assertThat(log).contains("daemon-file", "daemon=read-only");
            // bwrap itself adds PWD for --chdir.
            assertThat(value(log, "env")).isEqualTo(
                    "HOME,LANG,NOMAD_SHELL_ATTACH,NOMAD_SHELL_WORKSPACE,PATH,PWD,");
            assertThat(log).as("the token comes on standard input").contains("token=" + token);

            // bwrap's own pid 1 in the sandbox is a copy of it: pick the one this JVM started.
            List<Long> ours = hostPidsWith("--unshare-all").stream()
                    .filter(pid -> cmdline(pid).orElse("").contains(sandbox.jobId() + "/workspace"))
                    .filter(pid -> ProcessHandle.of(pid).flatMap(ProcessHandle::parent)
                            .equals(Optional.of(ProcessHandle.current())))
                    .toList();
            assertThat(ours).as("the bwrap process this JVM started").hasSize(1);
            assertThat(cmdline(ours.getFirst())).get().asString().startsWith("/usr/bin/bwrap ");
            assertThat(hostPidsWith(token)).as("host processes showing the token in argv").isEmpty();
            assertThat(Files.readString(Path.of("/proc", ours.getFirst().toString(), "environ")))
                    .as("nor in the environment").doesNotContain(token);
        } finally {
            Files.delete(hostTmpMarker);
        }
    }

    @Test
    void unixSocketConnectsToTheHostButNetworkDoesNot() throws Exception {
        try (ServerSocketChannel attach = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                ServerSocketChannel tcp = ServerSocketChannel.open()) {
            attach.bind(UnixDomainSocketAddress.of(socketDir.resolve("attach.sock")));
            tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            tcp.configureBlocking(false);
            int port = ((InetSocketAddress) tcp.getLocalAddress()).getPort();
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel client = attach.accept(); InputStream in = Channels.newInputStream(client)) {
                    return new String(in.readAllBytes(), UTF_8);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Sandbox sandbox = launch("socket", options(List.of("python3", "-c", """
                    import os, socket
                    path = os.environ["NOMAD_SHELL_ATTACH"].removeprefix("unix://")
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(path)
                        s.sendall(b"hello from " + path.encode())
                    try:
                        socket.create_connection(("127.0.0.1", %d), timeout=3).close()
                        print("tcp=connected")
                    except OSError as e:
                        print("tcp=failed", e)
                    """.formatted(port))).build())) {
                assertThat(received.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                        .isEqualTo("hello from /run/nomad-shell/attach.sock");
                assertThat(awaitExit(sandbox)).startsWith("the sandbox exited with code 0: tcp=failed");
                assertThat(tcp.accept()).as("a TCP connection from the sandbox").isNull();
            }
        }
    }

    @Test
    void runningOutOfMemoryIsReported() throws Exception {
        try (Sandbox sandbox = launch("oom", options(List.of("python3", "-c", "b = bytearray(400 * 1024 * 1024)"))
                .memoryLimitBytes(128 * MIB)
                .build())) {
            assertThat(awaitExit(sandbox)).isEqualTo("the sandbox ran out of memory (limit 128 MiB)");
        }
    }

    @Test
    void pidsLimitCapsProcesses() throws Exception {
        try (Sandbox sandbox = launch("pids", options(List.of("python3", "-c", """
                import os, subprocess
                refused = 0
                for _ in range(64):
                    try:
                        subprocess.Popen(["sleep", "60"])
                    except OSError:
                        refused += 1
                print("alive=%d refused=%d" % (sum(1 for p in os.listdir("/proc") if p.isdigit()), refused), flush=True)
                """)).pidsLimit(32).build())) {
            assertThat(awaitExit(sandbox)).startsWith("the sandbox exited with code 0");
            String log = log(sandbox);
            assertThat(Integer.parseInt(value(log, "alive"))).isBetween(16, 32);
            assertThat(Integer.parseInt(value(log, "refused"))).isPositive();
        }
    }

    @Test
    void limitsAreSetInTheSandboxCgroups() throws Exception {
        String marker = marker();
        try (Sandbox sandbox = launch("limits", options("""
                echo ready > /workspace/ready
                while :; do sleep 1; done; : %s
                """.formatted(marker)).memoryLimitBytes(256 * MIB).pidsLimit(64).cpuLimit(0.5).build())) {
            awaitFile(workspace.resolve("ready"));
            Map<String, Path> cgroups = cgroupDirs(hostPidsWith(marker).getFirst());

            assertThat(cgroups.get("memory").resolve("memory.limit_in_bytes")).hasContent("268435456");
            assertThat(cgroups.get("pids").resolve("pids.max")).hasContent("64");
            assertThat(cgroups.get("cpu").resolve("cpu.cfs_period_us")).hasContent("100000");
            assertThat(cgroups.get("cpu").resolve("cpu.cfs_quota_us")).hasContent("50000");
            assertThat(sandbox.exitReason()).isEmpty();
        }
    }

    @Test
    void closeKillsEveryProcessAndRemovesTheCgroups() throws Exception {
        String marker = marker();
        Sandbox sandbox = launch("close", options(escapingProcesses(marker)).build());
        awaitEscapingProcesses(marker);
        Map<String, Path> cgroups = cgroupDirs(hostPidsWith(marker).getFirst());
        assertThat(cgroups.values()).allSatisfy(dir -> assertThat(dir).isDirectory());

        sandbox.close();

        assertThat(hostPidsWith(marker)).as("processes left after close()").isEmpty();
        assertThat(cgroups.values()).allSatisfy(dir -> assertThat(dir).doesNotExist());
        assertThat(sandbox.exitReason()).contains(LocalSandbox.STOPPED);
        sandbox.close();
        assertThat(sandbox.exitReason()).contains(LocalSandbox.STOPPED);
    }

    @Test
    void stopEverySandboxClosesTheSandboxesStillRunning() throws Exception {
        String marker = marker();
        LocalLauncher launcher = LocalLauncher.of(options(escapingProcesses(marker)).build());
        Sandbox sandbox = launcher.launch(new SandboxSpec(jobId("stop"), token, workspace));
        awaitEscapingProcesses(marker);
        Map<String, Path> cgroups = cgroupDirs(hostPidsWith(marker).getFirst());

        launcher.stopEverySandbox();

        assertThat(hostPidsWith(marker)).as("processes left after the launcher's stop").isEmpty();
        assertThat(cgroups.values()).allSatisfy(dir -> assertThat(dir).doesNotExist());
        assertThat(sandbox.exitReason()).contains(LocalSandbox.STOPPED);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(" " + workspace + " ");
    }

    @Test
    void reclaimRemovesTheEmptyCgroupOfAWorkspaceLeftBehind() throws Exception {
        String id = jobId("left");
        Path workspaces = Files.createDirectories(tmp.resolve("workspaces"));
        Files.createDirectories(workspaces.resolve(id));
        LocalLauncherOptions options = options("true").build();
        SandboxCgroup left = CgroupHost.detect().create(id, options);
        assertThat(left).as("this test needs cgroups").isNotNull();
        List<Path> dirs = left.procsFiles().stream().map(Path::getParent).toList();
        assertThat(dirs).allSatisfy(dir -> assertThat(dir).isDirectory());

        LocalLauncher.of(options).reclaimLeftovers(workspaces);

        assertThat(dirs).allSatisfy(dir -> assertThat(dir).doesNotExist());
    }

    @Test
    void withoutCgroupsCloseStillKillsEveryProcess() throws Exception {
        String marker = marker();
        LocalLauncher launcher =
                LocalLauncher.of(options(escapingProcesses(marker)).build(), CgroupHost.detect(List.of(), List.of()));
        Sandbox sandbox = launcher.launch(new SandboxSpec(jobId("nocgroup"), token, workspace));
        awaitEscapingProcesses(marker);
        assertThat(Files.readString(Path.of("/proc", hostPidsWith(marker).getFirst().toString(), "cgroup")))
                .doesNotContain("nomad-shell");

        sandbox.close();

        assertThat(hostPidsWith(marker)).as("processes left after close()").isEmpty();
        assertThat(sandbox.exitReason()).contains(LocalSandbox.STOPPED);
    }

    /** A script leaving processes in new sessions, one of them double-forked, all showing {@code marker}. */
    private static String escapingProcesses(String marker) {
        return """
                (setsid sh -c 'while :; do sleep 1; done; : %1$s' &)
                setsid sh -c 'while :; do sleep 1; done; : %1$s' &
                sh -c 'sleep 1000; : %1$s' &
                echo ready > /workspace/ready
                while :; do sleep 1; done; : %1$s
                """.formatted(marker);
    }

    private void awaitEscapingProcesses(String marker) throws InterruptedException {
        awaitFile(workspace.resolve("ready"));
        await("four processes showing the marker", () -> hostPidsWith(marker).size() >= 4);
    }

    @Test
    void exitReasonQuotesTheEndOfTheLog() throws Exception {
        String script = "for i in 1 2 3 4 5 6 7; do echo line $i; done; exit 3";
        try (Sandbox sandbox = launch("exit", options(script).build())) {
            assertThat(awaitExit(sandbox))
                    .isEqualTo("the sandbox exited with code 3: line 3\nline 4\nline 5\nline 6\nline 7");
        }
    }

    @Test
    void sandboxOutlivesTheThreadThatLaunchedIt() throws Exception {
        LocalLauncher launcher = LocalLauncher.of(options("echo ready > /workspace/ready; exec sleep 60").build());
        AtomicReference<Sandbox> launched = new AtomicReference<>();
        // The thread ends only once bwrap has set up --die-with-parent, which it would then trigger.
        Thread thread = Thread.ofPlatform().start(() -> {
            try {
                launched.set(launcher.launch(new SandboxSpec(jobId("thread"), token, workspace)));
                awaitFile(workspace.resolve("ready"));
            } catch (LaunchException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        thread.join();
        try (Sandbox sandbox = launched.get()) {
            assertThat(workspace.resolve("ready")).exists();
            Thread.sleep(500);
            assertThat(sandbox.exitReason()).isEmpty();
        }
    }

    @Test
    void missingBubblewrapIsALaunchError() {
        assertThatThrownBy(() -> launch("nobwrap", options("true").bwrap("/nonexistent/bwrap").build()))
                .isInstanceOf(LaunchException.class)
                .hasMessage("bubblewrap (/nonexistent/bwrap) is not installed on this machine");
    }

    @Test
    void logDirectoryInsideTheWorkspaceIsRefused() {
        assertThatThrownBy(() -> launch("logs", options("true").logDirectory(workspace.resolve("logs")).build()))
                .isInstanceOf(LaunchException.class)
                .hasMessageContaining("is inside the workspace");
    }

    private LocalLauncherOptions.Builder options(String shellScript) {
        return options(List.of("/bin/sh", "-c", shellScript));
    }

    private LocalLauncherOptions.Builder options(List<String> command) {
        return LocalLauncherOptions.builder()
                .command(command)
                .attachSocket(socketDir.resolve("attach.sock"))
                .logDirectory(tmp.resolve("logs"));
    }

    private Sandbox launch(String name, LocalLauncherOptions options) throws LaunchException {
        return LocalLauncher.of(options).launch(new SandboxSpec(jobId(name), token, workspace));
    }

    private static String jobId(String name) {
        return "test-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static String marker() {
        return "nomad-shell-marker-" + UUID.randomUUID();
    }

    private String log(Sandbox sandbox) throws IOException {
        return Files.readString(tmp.resolve("logs").resolve(sandbox.jobId() + ".log"));
    }

    /** The value after {@code key=} in the log, up to the next space or line end. */
    private static String value(String log, String key) {
        Matcher m = Pattern.compile("(?m)(?:^|\\s)" + Pattern.quote(key) + "=(\\S*)").matcher(log);
        if (!m.find()) {
            fail("no " + key + "= in the log:\n" + log);
        }
        return m.group(1);
    }

    private static String awaitExit(Sandbox sandbox) throws InterruptedException {
        await("the sandbox to end", () -> sandbox.exitReason().isPresent());
        return sandbox.exitReason().orElseThrow();
    }

    private static void awaitFile(Path file) throws InterruptedException {
        await(file + " to appear", () -> Files.exists(file));
    }

    private static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(TIMEOUT);
        while (!condition.get()) {
            if (Instant.now().isAfter(deadline)) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Host processes whose command line contains {@code text}. */
    private static List<Long> hostPidsWith(String text) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            List<Long> pids = new ArrayList<>();
            procs.map(p -> p.getFileName().toString())
                    .filter(name -> name.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .filter(pid -> cmdline(pid).orElse("").contains(text))
                    .forEach(pids::add);
            return pids;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Optional<String> cmdline(long pid) {
        try {
            return Optional.of(Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' '));
        } catch (IOException e) {
            return Optional.empty(); // ended meanwhile
        }
    }

    /** The memory, pids and cpu cgroup directories of a host process (cgroup v1, as on the build machines). */
    private static Map<String, Path> cgroupDirs(long pid) throws IOException {
        Map<String, Path> dirs = Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup")).stream()
                .map(line -> line.split(":", 3))
                .filter(parts -> List.of("memory", "pids", "cpu").contains(parts[1]))
                .collect(Collectors.toMap(parts -> parts[1], parts -> Path.of("/sys/fs/cgroup", parts[1], parts[2])));
        assertThat(dirs).as("cgroups of pid " + pid).containsOnlyKeys("memory", "pids", "cpu");
        assertThat(dirs.values())
                .allSatisfy(dir -> assertThat(dir.getParent().getFileName()).hasToString("nomad-shell"));
        return dirs;
    }
}
