# The Nomad Shell server (control plane and gateway) and its Redis, as a Nomad service job.
# The server runs sandboxes on the same cluster with --launcher nomad: it registers
# sandbox.nomad.hcl (shipped in its jar) and dispatches it per job; sandboxes dial back to the
# server's Attach port over TLS (a CA the server makes under its data dir; its certificate reaches
# each sandbox as a file), never the API port (network mode host, so use nodes that may reach each other).
#
#   nomad var put nomad/jobs/nomad-shell openai_api_key=sk-... api_keys=key1,key2
#   nomad job run -var server_image=registry.example/nomad-shell:0.1.0 nomad-jobs/control-plane.nomad.hcl

variable "server_image" {
  description = "An image with a JDK >= 21 runtime and the nomad-shell CLI jar (cli/target) as its entrypoint."
  type        = string
  default     = "nomad-shell:local"
}

variable "redis_image" {
  type    = string
  default = "redis:7-bookworm"
}

variable "sandbox_image" {
  description = "The sandbox image (sandbox-image/) every client node can pull."
  type        = string
  default     = "nomad-shell-sandbox:local"
}

variable "port" {
  type    = number
  default = 8080
}

variable "attach_port" {
  description = "Where sandboxes attach (TLS only); the API port never serves them."
  type        = number
  default     = 7443
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

  group "server" {
    count = 1

    network {
      mode = "host"
      port "http" {
        static = var.port
      }
      port "attach" {
        static = var.attach_port
      }
      port "redis" {
        static = 6379
      }
    }

    # Redis keeps jobs, events and transcripts: on a host volume so they survive a reschedule.
    volume "redis" {
      type   = "host"
      source = "nomad-shell-redis"
    }

    task "redis" {
      driver = "docker"

      lifecycle {
        hook    = "prestart"
        sidecar = true
      }

      config {
        image        = var.redis_image
        network_mode = "host"
        args         = ["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--appendonly", "yes", "--dir", "/data"]
      }

      volume_mount {
        volume      = "redis"
        destination = "/data"
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }

    task "server" {
      driver = "docker"

      config {
        image        = var.server_image
        network_mode = "host"
        args         = ["server", "--launcher", "nomad", "--port", "${NOMAD_PORT_http}"]
      }

      env {
        REDIS_URL                  = "redis://127.0.0.1:6379"
        NOMAD_ADDR                 = "http://${attr.unique.network.ip-address}:4646"
        NOMAD_SHELL_SANDBOX_IMAGE  = var.sandbox_image
        NOMAD_SHELL_ATTACH_LISTEN  = "${NOMAD_ADDR_attach}"
        NOMAD_SHELL_ATTACH_ADDRESS = "${NOMAD_ADDR_attach}"
        NOMAD_SHELL_DATA_DIR       = "${NOMAD_ALLOC_DIR}/data"
        OPENAI_BASE_URL            = var.openai_base_url
      }

      # Secrets from Nomad Variables, as files only this task reads, never in the job.
      template {
        destination = "${NOMAD_SECRETS_DIR}/env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/nomad-shell" }}
          OPENAI_API_KEY={{ .openai_api_key }}
          NOMAD_SHELL_API_KEYS={{ .api_keys }}
          {{ end }}
        EOT
      }

      resources {
        cpu    = 1000
        memory = 1024
      }

      service {
        name     = "nomad-shell"
        port     = "http"
        provider = "nomad"

        check {
          type     = "http"
          path     = "/internal/healthcheck"
          interval = "10s"
          timeout  = "2s"
        }
      }
    }
  }
}
