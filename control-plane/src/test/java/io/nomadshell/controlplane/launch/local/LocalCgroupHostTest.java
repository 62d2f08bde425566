package io.nomadshell.controlplane.launch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.launch.LaunchException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding this process's cgroups on hierarchies laid out in a temporary directory, so that layouts
 * the build machines lack (cgroup v2, container mount roots, escaped mount points) are covered too.
 * The real v1 hierarchy is exercised by {@link LocalLauncherTest}.
 */
class LocalCgroupHostTest {

    @TempDir
    Path tmp;

    private final LocalLauncherOptions options = LocalLauncherOptions.builder()
            .command("true")
            .attachSocket(Path.of("/run/nomad-shell/attach.sock"))
            .logDirectory(Path.of("/var/log/nomad-shell"))
            .memoryLimitBytes(512L << 20)
            .pidsLimit(100)
            .cpuLimit(1.5)
            .build();

    @Test
    void v1GroupsNestUnderThisProcessGroupsInEachController() throws Exception {
        CgroupHost host = CgroupHost.detect(
                List.of(
                        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
                        "32 31 0:29 / " + tmp.resolve("cpu,cpuacct") + " rw - cgroup cgroup rw,cpu,cpuacct",
                        "35 31 0:32 / " + tmp.resolve("memory") + " rw - cgroup cgroup rw,memory",
                        // As in a container: the mount shows only the container's own subtree.
                        "39 31 0:36 /docker/c1 " + tmp.resolve("pids") + " rw - cgroup cgroup rw,pids"),
                List.of("9:pids:/docker/c1/app", "4:memory:/process_api/abc", "1:cpu,cpuacct:/", "0::/"));

        assertThat(host.create("job-1", options)).isNotNull();

        assertThat(tmp.resolve("memory/process_api/abc/nomad-shell/job-1/memory.limit_in_bytes"))
                .hasContent("536870912");
        assertThat(tmp.resolve("pids/app/nomad-shell/job-1/pids.max")).hasContent("100");
        assertThat(tmp.resolve("cpu,cpuacct/nomad-shell/job-1/cpu.cfs_quota_us")).hasContent("150000");
        assertThat(tmp.resolve("cpu,cpuacct/nomad-shell/job-1/cpu.cfs_period_us")).hasContent("100000");
    }

    @Test
    void v2GroupGetsTheControllersHandedDown() throws Exception {
        Path mount = tmp.resolve("cgroup v2");
        CgroupHost host = CgroupHost.detect(
                List.of("41 31 0:38 / " + mount.toString().replace(" ", "\\040") + " rw - cgroup2 cgroup2 rw"),
                List.of("0::/system.slice/nomad-shell.service"));

        assertThat(host.create("job-2", options)).isNotNull();

        Path own = mount.resolve("system.slice/nomad-shell.service");
        assertThat(own.resolve("cgroup.subtree_control")).hasContent("+memory +pids +cpu");
        assertThat(own.resolve("nomad-shell/cgroup.subtree_control")).hasContent("+memory +pids +cpu");
        assertThat(own.resolve("nomad-shell/job-2/memory.max")).hasContent("536870912");
        assertThat(own.resolve("nomad-shell/job-2/pids.max")).hasContent("100");
        assertThat(own.resolve("nomad-shell/job-2/cpu.max")).hasContent("150000 100000");
    }

    @Test
    void controllersSplitBetweenHierarchiesMeanNoLimits() throws Exception {
        CgroupHost host = CgroupHost.detect(
                List.of(
                        "35 31 0:32 / " + tmp.resolve("memory") + " rw - cgroup cgroup rw,memory",
                        "41 31 0:38 / " + tmp.resolve("unified") + " rw - cgroup2 cgroup2 rw"),
                List.of("4:memory:/", "0::/"));

        assertThat(host.create("job-3", options)).isNull();
        assertThat(tmp.resolve("memory/nomad-shell")).doesNotExist();
    }

    @Test
    void aJobWhoseGroupStillHasProcessesIsRefused() throws IOException {
        Path job = Files.createDirectories(tmp.resolve("memory/nomad-shell/job-4"));
        Files.writeString(job.resolve("cgroup.procs"), "4242\n");
        CgroupHost host = CgroupHost.detect(
                List.of(
                        "32 31 0:29 / " + tmp.resolve("cpu") + " rw - cgroup cgroup rw,cpu",
                        "35 31 0:32 / " + tmp.resolve("memory") + " rw - cgroup cgroup rw,memory",
                        "39 31 0:36 / " + tmp.resolve("pids") + " rw - cgroup cgroup rw,pids"),
                List.of("8:pids:/", "4:memory:/", "1:cpu:/"));

        assertThatThrownBy(() -> host.create("job-4", options))
                .isInstanceOf(LaunchException.class)
                .hasMessage("a sandbox for job job-4 is already running");
    }
}
