# The Nomad ACL policy of one Nomad Shell deployment's control plane: what its NOMAD_TOKEN
# (--nomad-token) needs, in its own namespace (--nomad-namespace), and nothing else.
#
# Nomad's ACLs grant per namespace, not per job: give each deployment a namespace of its own, and
# its token cannot list, read, dispatch or stop another deployment's sandbox jobs (Nomad answers
# 403). Replace "nomad-shell" with the deployment's namespace (and "nomad-shell-sandbox" with its
# --nomad-job-prefix, if it has another), then:
#
#   nomad namespace apply -description "Nomad Shell sandboxes" nomad-shell
#   nomad acl policy apply -description "Nomad Shell control plane" nomad-shell-control-plane nomad-jobs/control-plane.policy.hcl
#   nomad acl token create -name nomad-shell-control-plane -policy nomad-shell-control-plane
#   NOMAD_TOKEN=<its secret ID> NOMAD_NAMESPACE=nomad-shell ./nomad-shell server --launcher nomad
#
# What each capability is for:
#   submit-job    register the parameterized sandbox jobs (one per resource profile), parse the job
#                 file they come from (/v1/jobs/parse), and stop (deregister, purge) dispatched jobs
#   dispatch-job  dispatch one sandbox per job (and per warm-pool member)
#   read-job      follow a sandbox's allocations and the evaluation that placed (or could not place) it
#   list-jobs     find this deployment's dispatched jobs (by its --nomad-job-prefix) to reconcile
#                 them with its jobs in Redis, and purge finished ones
#   variables     nomad-shell/pool-owners/<server>: each server's heartbeat for the warm pool's owners;
#                 nomad/jobs/<job prefix>-<profile>/sandbox/sandbox: each sandbox's launch credential,
#                 from just before its dispatch until its task has read it (the task reads it with its
#                 own workload identity, which needs no policy). read-job does not reach variables, so
#                 whoever may only read jobs never sees a credential.
# Not granted, and not needed: logs, the allocations' file systems, exec, node or agent access.
namespace "nomad-shell" {
  capabilities = ["submit-job", "dispatch-job", "read-job", "list-jobs"]

  variables {
    path "nomad-shell/pool-owners/*" {
      capabilities = ["read", "write", "destroy", "list"]
    }
    path "nomad/jobs/nomad-shell-sandbox-*/sandbox/sandbox" {
      capabilities = ["read", "write", "destroy", "list"]
    }
  }
}
