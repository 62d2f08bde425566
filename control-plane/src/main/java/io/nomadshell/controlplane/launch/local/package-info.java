/**
 * The {@code local} launcher: each job's agent daemon runs as a child process of the control
 * plane inside bubblewrap, limited by cgroups.
 *
 * <p>Inside, the sandbox is a fresh root with its own user, pid, ipc, uts, net and cgroup
 * namespaces: uid/gid 1000 ({@code sandbox}, host root mapped, no capabilities), hostname
 * {@code sandbox}, no network but loopback, {@code /usr} read-only, a curated {@code /etc}, a
 * private {@code /tmp}, the job's workspace read-write at {@code /workspace} (the working
 * directory and {@code HOME}), and the control plane's Attach socket directory read-only at
 * {@code /run/nomad-shell}.
 */
@NullMarked
package io.nomadshell.controlplane.launch.local;

import org.jspecify.annotations.NullMarked;
