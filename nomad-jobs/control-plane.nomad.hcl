# The Nomad Shell server (control plane and gateway), two or more replicas, and the Redis they share,
# as a Nomad service job, from the images server-image/build.sh builds (push them to a registry your
# nodes pull from, or build them on every node).
#
# The replicas run sandboxes on the same cluster with --launcher nomad: each registers sandbox.nomad.hcl
# (shipped in its jar) under the deployment's prefix and dispatches it per job; sandboxes dial back to
# a replica's Attach port over TLS, never the API port, or, with attach_socket_dir, to its Attach Unix
# socket in that host directory. Every replica registers the Nomad service `<deployment>` (the API,
# with a health check), and `<deployment>-attach` for its TLS Attach port; Redis registers
# `<deployment>-redis`, which the replicas find through Nomad's service discovery. Everything runs on
# the node's network and listens on the node's address only (on a node whose network_interface is
# lo, loopback only).
#
# Before the first run: a host volume named `nomad-shell-redis` in the client configuration of the node
# that is to hold Redis (e.g. host_volume "nomad-shell-redis" { path = "/srv/nomad-shell-redis" }),
# writable by the image's redis user (uid 100), and the secrets in Nomad Variables:
#   nomad var put nomad/jobs/nomad-shell openai_api_key=sk-... api_keys=key1,key2 redis_password=$(openssl rand -hex 24) \
#     nomad_token=<secret id of a token with nomad-jobs/control-plane.policy.hcl in sandbox_namespace>
#   nomad job run -var server_image=registry.example/nomad-shell:0.1.0 \
#     -var redis_image=registry.example/nomad-shell-redis:0.1.0 nomad-jobs/control-plane.nomad.hcl
# Replicas and sandboxes on the nodes' own disks (sandboxes attach through a Unix socket, network none):
#   install -d -o 10001 -g 10001 -m 0755 /srv/nomad-shell/attach     # on every node, before the first run
#   nomad job run -var attach_socket_dir=/srv/nomad-shell/attach ... nomad-jobs/control-plane.nomad.hcl

variable "deployment" {
  description = "This deployment's name: its Nomad services, and the prefix of its sandbox jobs (several deployments may share a cluster)."
  type        = string
  default     = "nomad-shell"
}

variable "sandbox_namespace" {
  description = "The Nomad namespace of this deployment's sandboxes; its token (nomad_token in the Nomad Variables the server task reads) carries nomad-jobs/control-plane.policy.hcl there."
  type        = string
  default     = "default"
}

variable "replicas" {
  description = "Server replicas; any of them serves any job (they share Redis)."
  type        = number
  default     = 2
}

variable "server_image" {
  description = "The server image (server-image/build.sh): the nomad-shell CLI as entry point, non-root."
  type        = string
  default     = "nomad-shell:local"
}

variable "redis_image" {
  description = "The Redis image (server-image/build.sh builds it too)."
  type        = string
  default     = "nomad-shell-redis:local"
}

variable "sandbox_image" {
  description = "The sandbox image (sandbox-image/) every client node can pull."
  type        = string
  default     = "nomad-shell-sandbox:local"
}

variable "nomad_addr" {
  description = "The Nomad API as the replicas reach it; empty for the agent on their own node, http://<node address>:4646."
  type        = string
  default     = ""
}

variable "attach_socket_dir" {
  description = "A host directory (owned by the image's user, uid 10001) where each replica makes its Attach Unix socket, server-<index>.sock; it is mounted into the replica at the same path and into each sandbox at /run/nomad-shell, and the replicas list each other's sockets for failover. Only where a sandbox's node sees the same directory as the replica's (one node, or a shared disk); empty: Attach over TLS on the attach port."
  type        = string
  default     = ""
}

variable "openai_base_url" {
  description = "Any OpenAI-compatible endpoint; empty for OpenAI's."
  type        = string
  default     = ""
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "nomad-shell" {
  type        = "service"
  datacenters = var.datacenters

  group "redis" {
    count = 1

    network {
      port "redis" {}
    }

    # Jobs, events, transcripts and leases: on a host volume, so they outlive the allocation.
    volume "redis" {
      type   = "host"
      source = "nomad-shell-redis"
    }

    task "redis" {
      driver = "docker"

      config {
        image        = var.redis_image
        network_mode = "host"
        # The node's address and a port Nomad picked; the password from Nomad Variables, in a file.
        entrypoint = ["redis-server", "/secrets/redis.conf"]
        # The image's own health check asks the default port without the password; Nomad's service
        # check is the one that counts.
        healthchecks {
          disable = true
        }
      }

      template {
        destination = "${NOMAD_SECRETS_DIR}/redis.conf"
        data        = <<-EOT
          bind {{ env "NOMAD_IP_redis" }}
          port {{ env "NOMAD_PORT_redis" }}
          dir /data
          appendonly yes
          {{ with nomadVar "nomad/jobs/nomad-shell" }}requirepass {{ .redis_password }}{{ end }}
        EOT
      }

      volume_mount {
        volume      = "redis"
        destination = "/data"
      }

      service {
        name     = "${var.deployment}-redis"
        port     = "redis"
        provider = "nomad"

        check {
          type     = "tcp"
          interval = "10s"
          timeout  = "2s"
        }
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }

  group "server" {
    count = var.replicas

    # A replica that starts before Redis is registered stops at once (no REDIS_URL yet), and is started
    # again: keep trying rather than fail the allocation.
    restart {
      attempts = 10
      interval = "5m"
      delay    = "5s"
      mode     = "delay"
    }

    # One replica per node where there are enough nodes: a lost node then takes one replica, not all.
    spread {
      attribute = "${node.unique.id}"
    }

    update {
      max_parallel     = 1
      health_check     = "checks"
      min_healthy_time = "10s"
    }

    network {
      port "http" {}
      port "preview" {}
      port "attach" {}
      # Where the other replicas carry tunnels and previews of jobs whose sandbox is attached here.
      port "peer" {}
    }

    task "server" {
      driver = "docker"
      # A replica's clean stop stops its sandboxes and removes its heartbeat variable: more than the
      # default 5 s before SIGKILL.
      kill_timeout = "30s"

      config {
        image        = var.server_image
        network_mode = "host"
        args         = ["server", "--launcher", "nomad"]
        # The Attach socket directory at the path Nomad mounts into sandboxes: the host's.
        volumes = var.attach_socket_dir == "" ? [] : ["${var.attach_socket_dir}:${var.attach_socket_dir}"]
      }

      # Ports and the node's address through the environment, which the image's health check reads too.
      env {
        NOMAD_SHELL_LISTEN_ADDRESS   = "${NOMAD_IP_http}"
        NOMAD_SHELL_PORT             = "${NOMAD_PORT_http}"
        NOMAD_SHELL_PREVIEW_PORT     = "${NOMAD_PORT_preview}"
        NOMAD_ADDR                   = var.nomad_addr != "" ? var.nomad_addr : "http://${attr.unique.network.ip-address}:4646"
        NOMAD_SHELL_NOMAD_JOB_PREFIX = "${var.deployment}-sandbox"
        NOMAD_NAMESPACE              = var.sandbox_namespace
        NOMAD_SHELL_SANDBOX_IMAGE    = var.sandbox_image
        NOMAD_SHELL_ATTACH_LISTEN    = var.attach_socket_dir == "" ? "${NOMAD_ADDR_attach}" : ""
        NOMAD_SHELL_ATTACH_ADDRESS   = var.attach_socket_dir == "" ? "${NOMAD_ADDR_attach}" : ""
        NOMAD_SHELL_ATTACH_SOCKET    = var.attach_socket_dir == "" ? "${NOMAD_ALLOC_DIR}/data/nomad-shell/attach/attach.sock" : "${var.attach_socket_dir}/server-${NOMAD_ALLOC_INDEX}.sock"
        NOMAD_SHELL_ATTACH_PEERS     = var.attach_socket_dir == "" ? "" : join(",", formatlist("unix:///run/nomad-shell/server-%d.sock", range(var.replicas)))
        NOMAD_SHELL_PEER_ADDRESS     = "${NOMAD_ADDR_peer}"
        NOMAD_SHELL_DATA_DIR         = "${NOMAD_ALLOC_DIR}/data/nomad-shell"
        OPENAI_BASE_URL              = var.openai_base_url
      }

      # Secrets from Nomad Variables and Redis's address from Nomad's service discovery, as a file only
      # this task reads; a Redis that moves (or registers after this replica started, which then
      # stopped on the empty REDIS_URL) restarts the replica with the new address.
      template {
        destination = "${NOMAD_SECRETS_DIR}/env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/nomad-shell" }}
          OPENAI_API_KEY={{ .openai_api_key }}
          NOMAD_SHELL_API_KEYS={{ .api_keys }}
          NOMAD_TOKEN={{ .nomad_token }}
          {{ $password := .redis_password }}{{ range nomadService "${var.deployment}-redis" }}
          REDIS_URL=redis://:{{ $password }}@{{ .Address }}:{{ .Port }}
          {{ else }}
          REDIS_URL=
          {{ end }}{{ end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 1024
      }

      service {
        name     = var.deployment
        port     = "http"
        provider = "nomad"

        check {
          type     = "http"
          path     = "/internal/healthcheck"
          interval = "10s"
          timeout  = "2s"
        }
      }

      # Where sandboxes (and a replica taking over a job) find the replicas' TLS Attach listeners.
      dynamic "service" {
        for_each = var.attach_socket_dir == "" ? ["attach"] : []
        content {
          name     = "${var.deployment}-attach"
          port     = "attach"
          provider = "nomad"
        }
      }
    }
  }
}
