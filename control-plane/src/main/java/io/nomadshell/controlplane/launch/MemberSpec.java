package io.nomadshell.controlplane.launch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.SandboxResources;
import java.nio.file.Path;

/**
 * What a launcher needs to start one warm-pool sandbox: no job, only a member identity.
 *
 * @param memberId the pool member's id, which its daemon attaches as until a job claims it
 * @param token the member's single-use launch credential (for its member id, not for any job); never logged
 * @param workspaces the host directory jobs' workspaces live in; a local member's empty workspace is made there
 * @param resources what the sandbox may use: the pool's profile
 */
public record MemberSpec(String memberId, String token, Path workspaces, SandboxResources resources) {
    public MemberSpec {
        requireNonNull(memberId, "memberId");
        requireNonNull(token, "token");
        requireNonNull(workspaces, "workspaces");
        requireNonNull(resources, "resources");
    }

    @Override
    public String toString() {
        return "MemberSpec[memberId=" + memberId + ", resources=" + resources + "]";
    }
}
