# The Nomad Shell server (control plane and gateway), two or more replicas, and the Redis they share,
# as a Nomad service job, from the images server-image/build.sh builds (push them to a registry your
# nodes pull from, or build them on every node).
#
# The replicas run sandboxes on the same cluster with --launcher nomad: each registers sandbox.nomad.hcl
# (shipped in its jar) under the deployment's prefix and dispatches it per job; sandboxes dial back to
# a replica's Attach port over TLS, never the API port. Every replica registers two Nomad services,
# `<deployment>` (the API, with a health check) and `<deployment>-attach`; Redis registers
# `<deployment>-redis`, which the replicas find through Nomad's service discovery.
#
# Before the first run: a host volume named `nomad-shell-redis` in the client configuration of the node
# that is to hold Redis (e.g. host_volume "nomad-shell-redis" { path = "/srv/nomad-shell-redis" }),
# writable by the image's redis user (uid 100), and the secrets in Nomad Variables:
#   nomad var put nomad/jobs/nomad-shell openai_api_key=sk-... api_keys=key1,key2 redis_password=$(openssl rand -hex 24)
#   nomad job run -var server_image=registry.example/nomad-shell:0.1.0 \
#     -var redis_image=registry.example/nomad-shell-redis:0.1.0 nomad-jobs/control-plane.nomad.hcl

variable "deployment" {
  description = "This deployment's name: its Nomad services, and the prefix of its sandbox jobs (several deployments may share a cluster)."
  type        = string
  default     = "nomad-shell"
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

      config {
        image        = var.server_image
        network_mode = "host"
        args         = ["server", "--launcher", "nomad"]
      }

      # Ports through the environment, which the image's health check reads too.
      env {
        NOMAD_SHELL_PORT             = "${NOMAD_PORT_http}"
        NOMAD_SHELL_PREVIEW_PORT     = "${NOMAD_PORT_preview}"
        NOMAD_ADDR                   = "http://${attr.unique.network.ip-address}:4646"
        NOMAD_SHELL_NOMAD_JOB_PREFIX = "${var.deployment}-sandbox"
        NOMAD_SHELL_SANDBOX_IMAGE    = var.sandbox_image
        NOMAD_SHELL_ATTACH_LISTEN    = "${NOMAD_ADDR_attach}"
        NOMAD_SHELL_ATTACH_ADDRESS   = "${NOMAD_ADDR_attach}"
        NOMAD_SHELL_PEER_ADDRESS     = "${NOMAD_ADDR_peer}"
        NOMAD_SHELL_DATA_DIR         = "${NOMAD_ALLOC_DIR}/data"
        OPENAI_BASE_URL              = var.openai_base_url
      }

      # Secrets from Nomad Variables and Redis's address from Nomad's service discovery, as a file only
      # this task reads; a Redis that moves restarts the replica with the new address.
      template {
        destination = "${NOMAD_SECRETS_DIR}/env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/nomad-shell" }}
          OPENAI_API_KEY={{ .openai_api_key }}
          NOMAD_SHELL_API_KEYS={{ .api_keys }}
          {{ $password := .redis_password }}{{ range nomadService "${var.deployment}-redis" }}
          REDIS_URL=redis://:{{ $password }}@{{ .Address }}:{{ .Port }}
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

      # Where sandboxes (and a replica taking over a job) find the replicas' Attach listeners.
      service {
        name     = "${var.deployment}-attach"
        port     = "attach"
        provider = "nomad"
      }
    }
  }
}
