/**
 * The {@code local} launcher: each job's agent daemon runs as a child process of the control
 * plane inside bubblewrap, limited by cgroups.
 *
 * <p>Inside, the sandbox is a fresh root with its own user, pid, ipc, uts, net and cgroup
 * namespaces: uid/gid 1000 ({@code sandbox}, no capabilities), which is an unprivileged host uid of
 * the sandbox's own ({@link io.nomadshell.controlplane.launch.local.SandboxUids}), never root;
 * hostname {@code sandbox}, no network but loopback, no nested user namespaces, a seccomp filter
 * ({@link io.nomadshell.controlplane.launch.local.SeccompFilter}), {@code /usr} and {@code /proc/sys}
 * read-only, a curated {@code /etc}, a private size-capped {@code /tmp}, the job's workspace
 * read-write at {@code /workspace} (the working directory and {@code HOME}; on the host a loop-mounted
 * image of the job's disk size, {@code nosuid,nodev}), and the control plane's Attach socket
 * directory read-only at {@code /run/nomad-shell}.
 */
@NullMarked
package io.nomadshell.controlplane.launch.local;

import org.jspecify.annotations.NullMarked;
