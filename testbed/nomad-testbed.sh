#!/usr/bin/env bash
# Nomad Shell testbed: a real Docker engine and a real single-node Nomad agent on this machine,
# for the Nomad launcher's tests and benchmarks, and for trying `--launcher nomad` by hand.
#
#   testbed/nomad-testbed.sh start        install what is missing, build Nomad once (cached), start
#                                         dockerd and `nomad agent -dev`, make the base image and
#                                         warm the sandbox image's layers; waits until all answer
#   testbed/nomad-testbed.sh status       say what runs
#   testbed/nomad-testbed.sh stop         stop the Nomad agent and dockerd that `start` started
#   testbed/nomad-testbed.sh build-nomad  only build (or find) the pinned Nomad binary
#
# Nomad is not packaged by Debian and nothing can be downloaded but from package registries, so
# the pinned release (the last line under the MPL) is built from the Go module proxy with the
# machine's `go`, into a cache directory outside the repository, and reused from there.
# Nomad listens on 127.0.0.1 only; dockerd runs without iptables and without a default bridge
# (containers use network mode none or host: the network rule of the tests).
set -euo pipefail

NOMAD_VERSION=1.6.1
# The release's nested `api` module is excluded from the release's module zip (its go.mod
# replaces it with ./api): fetch it through the proxy at the release's own commit.
NOMAD_API_VERSION=v0.0.0-20230721134942-515895c7690c

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
CACHE_DIR=${NOMAD_SHELL_CACHE_DIR:-/var/cache/nomad-shell}
STATE_DIR=${NOMAD_SHELL_TESTBED_DIR:-/var/lib/nomad-shell-testbed}
NOMAD_BIN="$CACHE_DIR/nomad-$NOMAD_VERSION/nomad"
NOMAD_HTTP=http://127.0.0.1:4646
BASE_IMAGE=debian:bookworm-slim
WAIT_SECONDS=120

log() { printf '[nomad-testbed] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
export GOTOOLCHAIN=local
# Go's own installer puts it here, off the default PATH.
[[ -d /usr/local/go/bin ]] && PATH="$PATH:/usr/local/go/bin"

build_nomad() {
  if [[ -x "$NOMAD_BIN" ]]; then
    log "nomad $NOMAD_VERSION: cached at $NOMAD_BIN"
    return
  fi
  command -v go >/dev/null || die "go is needed to build Nomad"
  log "building nomad $NOMAD_VERSION from the Go module proxy (once; cached in $CACHE_DIR)"
  local src api work
  src=$(go mod download -json "github.com/hashicorp/nomad@v$NOMAD_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  api=$(go mod download -json "github.com/hashicorp/nomad/api@$NOMAD_API_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d "$src" && -d "$api" ]] || die "could not fetch the Nomad modules from the Go module proxy"
  mkdir -p "$CACHE_DIR"
  work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
  cp -r "$src/." "$work/src"
  cp -r "$api/." "$work/src/api"
  chmod -R u+w "$work/src"
  # codegen_generated: the release's generated msgpack codecs, as release builds use them.
  (cd "$work/src" && go build -trimpath -tags codegen_generated -o "$work/nomad" .)
  mkdir -p "$(dirname "$NOMAD_BIN")"
  mv "$work/nomad" "$NOMAD_BIN"
  rm -rf "$work"
  log "nomad $NOMAD_VERSION built: $NOMAD_BIN"
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v runsc >/dev/null || missing+=(runsc)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

docker_up() { docker info >/dev/null 2>&1; }

start_dockerd() {
  if docker_up; then
    log "dockerd: already running"
    return
  fi
  mkdir -p "$STATE_DIR"
  local runtimes=''
  if [[ -x /usr/bin/runsc ]]; then
    # gVisor, for sandboxes with runtime = "runsc": its own network off (it cannot take over a
    # namespace here), host-uds=open so the daemon dials the mounted Attach socket.
    runtimes=', "runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none", "--host-uds=open"]}}'
  fi
  cat > "$STATE_DIR/daemon.json" <<JSON
{"iptables": false, "ip6tables": false, "bridge": "none"$runtimes}
JSON
  log "starting dockerd (log $STATE_DIR/dockerd.log)"
  setsid dockerd --config-file "$STATE_DIR/daemon.json" >"$STATE_DIR/dockerd.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/dockerd.pid"
  wait_for "dockerd" docker_up
}

make_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE: present"
    return
  fi
  local mirror root
  # The machine's own Debian mirror (one-line or deb822 sources), else Debian's default.
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -E '^[[:space:]]*(deb|URIs:)[[:space:]]' | grep -oE 'https?://[^ ]*/debian/?( |$)' \
    | head -n1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d /tmp/nomad-shell-rootfs.XXXXXX)
  log "making $BASE_IMAGE with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" > "$STATE_DIR/debootstrap.log" 2>&1 \
    || { rm -rf "$root"; die "debootstrap failed: see $STATE_DIR/debootstrap.log"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"
}

# Up when a ready node has a healthy docker driver.
nomad_up() {
  local nodes
  nodes=$(curl -sf "$NOMAD_HTTP/v1/nodes" 2>/dev/null) || return 1
  python3 -c '
import json, sys
nodes = [n for n in json.loads(sys.argv[1]) if n["Status"] == "ready"]
sys.exit(0 if any(n.get("Drivers", {}).get("docker", {}).get("Healthy") for n in nodes) else 1)' "$nodes"
}

nomad_answers() { curl -sf "$NOMAD_HTTP/v1/agent/self" >/dev/null 2>&1; }

start_nomad() {
  if nomad_answers; then
    log "nomad agent: already running at $NOMAD_HTTP"
    wait_for "nomad agent with a healthy docker driver" nomad_up
    return
  fi
  mkdir -p "$STATE_DIR"
  cat > "$STATE_DIR/nomad.hcl" <<HCL
# Written by testbed/nomad-testbed.sh: a single-node dev agent on loopback.
bind_addr = "127.0.0.1"
plugin "docker" {
  config {
    # Sandboxes reach the control plane through its Attach socket directory, bind-mounted.
    volumes { enabled = true }
    allow_runtimes = ["runc", "runsc"]
    # Keep the locally built images: nothing can be pulled here.
    gc { image = false }
  }
}
HCL
  log "starting nomad agent -dev (log $STATE_DIR/nomad.log)"
  setsid "$NOMAD_BIN" agent -dev -config "$STATE_DIR/nomad.hcl" >"$STATE_DIR/nomad.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/nomad.pid"
  wait_for "nomad agent with a healthy docker driver" nomad_up
}

wait_for() {
  local what=$1; shift
  local i
  for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if "$@"; then
      log "$what: up"
      return
    fi
    sleep 0.5
  done
  die "$what did not come up within $WAIT_SECONDS s (logs in $STATE_DIR)"
}

stop_pid() {
  local name=$1 file="$STATE_DIR/$1.pid" pid i
  [[ -f "$file" ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

start() {
  mkdir -p "$STATE_DIR" "$CACHE_DIR"
  local started=$SECONDS
  # The Go build is the long pole: run it while packages, dockerd and the base image are made.
  build_nomad > "$STATE_DIR/build-nomad.log" 2>&1 &
  local build=$!
  install_packages
  start_dockerd
  make_base_image
  "$REPO/sandbox-image/build.sh" --base-only
  wait "$build" || die "building Nomad failed: see $STATE_DIR/build-nomad.log"
  start_nomad
  log "ready in $((SECONDS - started)) s: NOMAD_ADDR=$NOMAD_HTTP"
}

status() {
  if docker_up; then log "dockerd: running"; else log "dockerd: not running"; fi
  if nomad_up; then log "nomad: running at $NOMAD_HTTP"; else log "nomad: not running"; fi
  if [[ -x "$NOMAD_BIN" ]]; then log "nomad $NOMAD_VERSION binary: $NOMAD_BIN"; else log "nomad binary: not built"; fi
  if docker_up && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then log "$BASE_IMAGE: present"; fi
  docker_up && nomad_up
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid nomad; stop_pid dockerd ;;
  status) status ;;
  build-nomad) build_nomad ;;
  *) echo "usage: $0 start|status|stop|build-nomad" >&2; exit 2 ;;
esac
