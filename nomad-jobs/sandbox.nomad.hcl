# The sandbox one Nomad Shell job runs in: a parameterized batch job, dispatched once per task.
#
# The control plane registers this file at start-up (through the agent's /v1/jobs/parse, with the
# variables below) and dispatches it for every task, with meta that says what each allocation is and
# no payload: whoever may read jobs in the namespace (read-job) reads a dispatched job's payload and
# meta. The job's Attach token reaches only its task: the control plane writes it, before the dispatch,
# as the item <nomad_shell_job meta> of the Nomad variable nomad/jobs/<parent job>/sandbox/sandbox, and
# the template below renders that item into the task's secrets directory. Reading the variable takes
# the variables capability; the Nomad client renders it with the task's workload identity, which may
# read nomad/jobs/<job>/<group>/<task> without any policy (a dispatched job's identity carries its
# parent's id, so every sandbox of one parent renders its own item from the one variable). The control
# plane removes the item once the sandbox has ended (the first Attach spends it). Never give this task its identity
# (identity { env / file }): its processes, which the model drives, could then read the variable.
# Per-task resources need their own parent job (Nomad cannot change resources per dispatch): the
# control plane registers one per resource profile, named nomad-shell-sandbox-<profile>.
#
# To run one by hand:
#   nomad job run -var attach_socket_dir=$HOME/.nomad-shell/attach nomad-jobs/sandbox.nomad.hcl
# or, for a control plane on another node (its --attach-listen):
#   nomad job run -var attach=cp.example:7443 -var attach_ca="$(cat ~/.nomad-shell/tls/attach-ca.pem)" nomad-jobs/sandbox.nomad.hcl
#   nomad var put nomad/jobs/nomad-shell-sandbox/sandbox/sandbox j123="$TOKEN"
#   nomad job dispatch -meta nomad_shell_job=j123 nomad-shell-sandbox

variable "image" {
  description = "The sandbox image (sandbox-image/); it must be on the node or pullable."
  type        = string
  default     = "nomad-shell-sandbox:local"
}

variable "runtime" {
  description = "The container runtime: runc, or runsc for gVisor (the node's Docker must know it)."
  type        = string
  default     = "runc"
}

variable "cpu" {
  description = "CPU in MHz."
  type        = number
  default     = 1000
}

variable "memory" {
  description = "Memory in MiB; the whole sandbox, its tools and files in /dev/shm included."
  type        = number
  default     = 1024
}

variable "disk" {
  description = "Size in MiB of each of the workspace, /tmp and the home directory (tmpfs, counted in memory)."
  type        = number
  default     = 4096
}

variable "network_mode" {
  description = "none: no network, the daemon dials the mounted Attach socket and egress rides on Attach (its proxy). bridge: Nomad's bridge network (CNI), for a daemon that dials a TCP attach address; the node's firewall (scripts/sandbox-firewall.sh) lets it reach that address and nothing else. Never host."
  type        = string
  default     = "none"

  validation {
    condition     = contains(["none", "bridge"], var.network_mode)
    error_message = "The network_mode is none (Attach socket mounted) or bridge (Attach over TCP, behind the node's sandbox firewall)."
  }
}

variable "attach" {
  description = "The control plane's Attach address as the daemon dials it: unix:///run/nomad-shell/<socket> or host:port; or every replica's, comma-separated, the launching one first (the daemon redials the next when its stream breaks)."
  type        = string
  default     = "unix:///run/nomad-shell/attach.sock"
}

variable "attach_ca" {
  description = "With attach as host:port (always TLS): the CA certificate (PEM) the daemon trusts; empty for the image's system authorities."
  type        = string
  default     = ""
}

variable "attach_socket_dir" {
  description = "The host directory holding the control plane's Attach socket, mounted at /run/nomad-shell; empty when attach is host:port."
  type        = string
  default     = ""
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "nomad-shell-sandbox" {
  type        = "batch"
  datacenters = var.datacenters

  parameterized {
    payload       = "forbidden"
    meta_required = ["nomad_shell_job"]
    meta_optional = ["submitter", "task", "pool", "pool_owner", "traceparent"]
  }

  group "sandbox" {
    # A sandbox that fails is the job's failure: the control plane reports it, Nomad never retries.
    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    # Bridge: the group's own network namespace on the node's Nomad bridge (docker joins it), whose
    # firewall passes only the Attach address. None: the container's own, with no interface but lo.
    dynamic "network" {
      for_each = var.network_mode == "bridge" ? ["bridge"] : []
      content {
        mode = network.value
      }
    }

    task "sandbox" {
      driver = "docker"
      # The daemon ends at once on SIGTERM; what it ran gets this long before SIGKILL.
      kill_timeout = "10s"

      # The job's single-use launch credential, from the variable this task alone may read (see the
      # top of this file), into the secrets directory (a tmpfs that Nomad's file-system API does not
      # serve), readable by the sandbox user only; the daemon deletes the file once read (never env:
      # every tool process would inherit it). The template waits until the variable exists. When the
      # control plane removes the item (when the sandbox has ended), the file is rendered again, empty.
      template {
        data        = <<-EOT
          {{- with nomadVar (printf "nomad/jobs/%s/sandbox/sandbox" (env "NOMAD_JOB_PARENT_ID")) -}}
          {{- index . (env "NOMAD_META_nomad_shell_job") -}}
          {{- end -}}
        EOT
        destination = "secrets/attach-token"
        change_mode = "noop"
        perms       = "0400"
        uid         = 1000
        gid         = 1000
      }

      # The CA that signed the control plane's Attach certificate (a public certificate).
      dynamic "template" {
        for_each = var.attach_ca == "" ? [] : [var.attach_ca]
        content {
          data        = template.value
          destination = "local/attach-ca.pem"
        }
      }

      config {
        image        = var.image
        runtime      = var.runtime
        network_mode = var.network_mode == "bridge" ? "" : var.network_mode
        volumes      = var.attach_socket_dir == "" ? [] : ["${var.attach_socket_dir}:/run/nomad-shell"]
        # Files in /dev/shm count against the memory limit: let them fill it, not a 64 MiB default.
        shm_size     = (var.memory + var.disk) * 1024 * 1024
        pids_limit   = 512
        security_opt = ["no-new-privileges"]
        # Only the workspace, /tmp and the home directory are writable, each a tmpfs of the job's disk
        # size (writing past it fails with ENOSPC), nosuid and nodev. They are local-driver tmpfs
        # volumes, not "tmpfs" mounts, which Docker makes noexec: a build must run what it builds.
        # Anonymous, so Docker removes them with the container.
        # Three mount blocks, not one dynamic block: Nomad parses the docker config without "dynamic".
        readonly_rootfs = true
        mount {
          type   = "volume"
          target = "/workspace"
          volume_options {
            driver_config {
              name    = "local"
              options = [{ type = "tmpfs", device = "tmpfs", o = "size=${var.disk}m,uid=1000,gid=1000,mode=0755,nosuid,nodev" }]
            }
          }
        }
        mount {
          type   = "volume"
          target = "/home/sandbox"
          volume_options {
            driver_config {
              name    = "local"
              options = [{ type = "tmpfs", device = "tmpfs", o = "size=${var.disk}m,uid=1000,gid=1000,mode=0755,nosuid,nodev" }]
            }
          }
        }
        mount {
          type   = "volume"
          target = "/tmp"
          volume_options {
            driver_config {
              name    = "local"
              options = [{ type = "tmpfs", device = "tmpfs", o = "size=${var.disk}m,mode=1777,nosuid,nodev" }]
            }
          }
        }
      }

      env {
        NOMAD_SHELL_ATTACH     = var.attach
        NOMAD_SHELL_TOKEN_FILE = "/secrets/attach-token"
        NOMAD_SHELL_ATTACH_CA  = var.attach_ca == "" ? "" : "/local/attach-ca.pem"
      }

      resources {
        cpu = var.cpu
        # A tmpfs's files are the container's memory: the job's memory plus its disk.
        memory = var.memory + var.disk
      }

      logs {
        max_files     = 2
        max_file_size = 5
      }
    }
  }
}
