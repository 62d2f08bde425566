#!/usr/bin/env bash
# Nomad Shell testbed: a real Docker engine and a real Nomad cluster on this machine (one server,
# two client agents, ACLs on), for the Nomad launcher's tests and benchmarks, and for trying
# `--launcher nomad` by hand.
#
#   testbed/nomad-testbed.sh start           install what is missing, build Nomad once (cached), start
#                                            dockerd, the Nomad server and both clients, bootstrap the
#                                            ACL system once, make the base image and warm the sandbox
#                                            image's layers; waits until all answer
#   testbed/nomad-testbed.sh status          say what runs
#   testbed/nomad-testbed.sh stop            stop the Nomad agents and dockerd that `start` started
#   testbed/nomad-testbed.sh start-nomad     start only the Nomad agents (dockerd and Nomad's binary ready)
#   testbed/nomad-testbed.sh stop-nomad      stop only the Nomad agents
#   testbed/nomad-testbed.sh stop-client N   stop client agent N (1 or 2): its allocations become lost
#   testbed/nomad-testbed.sh start-client N  start it again, as a new machine would (see below)
#   testbed/nomad-testbed.sh build-nomad     only build (or find) the pinned Nomad binary
#   testbed/nomad-testbed.sh nomad ARGS...   the pinned `nomad` CLI against this testbed, with its
#                                            management token (e.g. nomad job run FILE)
#
# The server listens on 127.0.0.1:4646 (RPC 4647, serf 4648); client N's HTTP port is 4646 + 10 N.
# NOMAD_SHELL_TESTBED_PORT moves them all (a second testbed beside the first), and
# NOMAD_SHELL_TESTBED_DIR the state (data dirs, logs, configurations). The management token is
# written once, at bootstrap, to $NOMAD_SHELL_TESTBED_DIR/nomad-management.token (root only):
#   export NOMAD_ADDR=http://127.0.0.1:4646 NOMAD_TOKEN=$(cat /var/lib/nomad-shell-testbed/nomad-management.token)
# The clients are testbed-client-1 and -2 (node meta testbed_client = 1 or 2), each with a cgroup
# parent of its own; they share the one Docker engine, so their docker plugins reap no "dangling"
# containers (each would take the other's for its own leftovers).
#
# Each agent starts with no state: a server that was not running starts a new, empty cluster (a
# new management token, no jobs), and a client forgets its allocations and has their containers
# removed. A client that restores allocations reattaches to their log plugins by the pids it saved,
# and kills a saved pid it cannot reach: after a restart of the machine, or just many processes
# later, that pid may be anyone's (it was a test's JVM once).
#
# Nomad is not packaged by Debian and nothing can be downloaded but from package registries, so
# the pinned release (the last line under the MPL) is built from the Go module proxy with the
# machine's `go`, into a cache directory outside the repository, and reused from there.
# Nomad listens on 127.0.0.1 only; dockerd runs without iptables and without a default bridge
# (containers use network mode none or host: the network rule of the tests).
#
# Sandboxes that dial Attach over TCP run in Nomad's bridge network mode (CNI plugins from Debian's
# containernetworking-plugins). Each client has a bridge and a subnet of its own (bridge_name,
# bridge_subnet below), and scripts/sandbox-firewall.sh lets a sandbox on them reach one address
# only: the testbed's Attach address ADDRESS:PORT, which the firewall carries to a control plane
# listening on 127.0.0.1:PORT (--attach-listen 127.0.0.1:PORT --attach-address ADDRESS:PORT).
# Everything else from the bridges is dropped. $STATE_DIR/sandbox-network says the address
# (attach=ADDRESS:PORT) and the bridges (bridge.N=NAME), for the tests.
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
# Another instance beside the usual one: NOMAD_SHELL_TESTBED_DIR and NOMAD_SHELL_TESTBED_PORT.
PORT=${NOMAD_SHELL_TESTBED_PORT:-4646}
NOMAD_HTTP=http://127.0.0.1:$PORT
# The ACL management token, readable by root only.
TOKEN_FILE="$STATE_DIR/nomad-management.token"
CLIENTS=(1 2)
BASE_IMAGE=debian:bookworm-slim
WAIT_SECONDS=120
# Nomad's bridge mode holds each allocation's network namespace in a "pause" container, which
# nothing can pull here: a local image that only sleeps stands in.
PAUSE_IMAGE=nomad-shell-pause:local
# Testbeds beside each other get subnets of their own, from their port: 172.26.<block>.1 is the
# Attach address (no interface has it: the firewall carries it to loopback), client N's subnet is
# 172.26.<block + N>.0/24.
BRIDGE_BLOCK=$(((PORT % 60) * 4))
ATTACH_ADDRESS=172.26.$BRIDGE_BLOCK.1:$((PORT + 30))
NETWORK_FILE="$STATE_DIR/sandbox-network"

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
  command -v iptables >/dev/null || missing+=(iptables)
  [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
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

# The server's token for the readiness checks (empty before the ACL system is bootstrapped).
nomad_curl() {
  local token=''
  [[ -r "$TOKEN_FILE" ]] && token=$(cat "$TOKEN_FILE")
  curl -sf -H "X-Nomad-Token: $token" "$@"
}

# Up when both clients are ready with a healthy docker driver.
nomad_up() {
  local nodes
  nodes=$(nomad_curl "$NOMAD_HTTP/v1/nodes" 2>/dev/null) || return 1
  python3 -c '
import json, sys
nodes = [n for n in json.loads(sys.argv[1]) if n["Status"] == "ready"]
healthy = [n for n in nodes if n.get("Drivers", {}).get("docker", {}).get("Healthy")]
sys.exit(0 if len(healthy) >= int(sys.argv[2]) else 1)' "$nodes" "${1:-${#CLIENTS[@]}}"
}

nomad_answers() { curl -sf "$NOMAD_HTTP/v1/status/leader" 2>/dev/null | grep -q :; }

# What every agent's configuration says: its name, data dir and ports (HTTP, then RPC and serf
# above it), all on loopback, and ACLs on.
agent_config() {
  local name=$1 dir=$2 http=$3
  cat <<HCL
name      = "$name"
data_dir  = "$STATE_DIR/$dir"
bind_addr = "127.0.0.1"
ports {
  http = $http
  rpc  = $((http + 1))
  serf = $((http + 2))
}
advertise {
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}
acl {
  enabled = true
}
HCL
}

# Writes the server's configuration: ACLs on, one server that elects itself, on loopback.
server_config() {
  cat > "$STATE_DIR/nomad-server.hcl" <<HCL
# Written by testbed/nomad-testbed.sh: the testbed's one Nomad server, on loopback, ACLs on.
$(agent_config testbed-server nomad-server "$PORT")
server {
  enabled          = true
  bootstrap_expect = 1
  # A stopped client's allocations are lost within about 15 s (the default grace is 10 s).
  heartbeat_grace  = "5s"
}
HCL
}

bridge_name() { echo "nst$PORT-c$1"; }
bridge_subnet() { echo "172.26.$((BRIDGE_BLOCK + $1)).0/24"; }

# Writes client N's configuration: its own data dir, ports, node name, meta, cgroup parent and bridge.
client_config() {
  local n=$1 http=$((PORT + 10 * $1))
  cat > "$STATE_DIR/nomad-client-$n.hcl" <<HCL
# Written by testbed/nomad-testbed.sh: testbed client $n, sharing this machine's Docker engine.
$(agent_config "testbed-client-$n" "nomad-client-$n" "$http")
client {
  enabled           = true
  servers           = ["127.0.0.1:$((PORT + 1))"]
  network_interface = "lo"
  # Two clients on one machine (and other testbeds beside this one): each its own cgroup tree, or
  # one's cleanup takes the other's tasks.
  cgroup_parent     = "/nomad-testbed-$PORT-client-$n"
  # Bridge mode: the two clients on one machine must not share a bridge or a subnet.
  cni_path              = "/usr/lib/cni"
  bridge_network_name   = "$(bridge_name "$n")"
  bridge_network_subnet = "$(bridge_subnet "$n")"
  meta {
    testbed_client = "$n"
  }
$(host_volumes "$n")
}
plugin "docker" {
  config {
    # Sandboxes reach the control plane through its Attach socket directory, bind-mounted.
    volumes { enabled = true }
    allow_runtimes = ["runc", "runsc"]
    infra_image    = "$PAUSE_IMAGE"
    gc {
      # Keep the locally built images: nothing can be pulled here.
      image = false
      # Both clients share one Docker engine: each would reap the other's containers as dangling.
      dangling_containers { enabled = false }
    }
  }
}
HCL
}

# Client N's host volumes: the Redis of nomad-jobs/control-plane.nomad.hcl, writable by the Redis
# image's user (uid 100, gid 101); each client its own directory, as each machine its own disk.
host_volumes() {
  local dir="$STATE_DIR/nomad-client-$1-volumes/nomad-shell-redis"
  install -d -o 100 -g 101 -m 0750 "$dir"
  cat <<HCL
  host_volume "nomad-shell-redis" {
    path = "$dir"
  }
HCL
}

start_agent() {
  local name=$1
  log "starting $name (log $STATE_DIR/$name.log)"
  setsid "$NOMAD_BIN" agent -config "$STATE_DIR/$name.hcl" >>"$STATE_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/$name.pid"
}

# Runs the check "$2..." while agent $1 runs; gives up at once when it has exited.
agent_answers() {
  local name=$1; shift
  running "$name" || die "$name exited: see $STATE_DIR/$name.log"
  "$@"
}

# Whether the process that $1's pid file names runs and is still $1: a pid file outlives its
# process when the machine restarts, and its pid goes to another process sooner or later.
running() {
  local file="$STATE_DIR/$1.pid" config="$STATE_DIR/$1.hcl"
  [[ "$1" == dockerd ]] && config="$STATE_DIR/daemon.json"
  [[ -f "$file" ]] && tr '\0' ' ' 2>/dev/null < "/proc/$(cat "$file")/cmdline" | grep -qF -- " $config"
}

# Bootstraps the ACL system once and keeps the management token in a file only root reads; a
# server that was bootstrapped before keeps the token it gave then.
bootstrap_acl() {
  local answer
  if answer=$(curl -sf -X POST "$NOMAD_HTTP/v1/acl/bootstrap" 2>/dev/null); then
    (umask 077 && python3 -c 'import json, sys; print(json.loads(sys.argv[1])["SecretID"])' "$answer" > "$TOKEN_FILE")
    log "ACLs bootstrapped: the management token is in $TOKEN_FILE"
  fi
  [[ -r "$TOKEN_FILE" ]] && nomad_curl "$NOMAD_HTTP/v1/acl/token/self" >/dev/null \
    || die "the ACL system was bootstrapped before, and $TOKEN_FILE does not hold its management token: stop the testbed, remove $STATE_DIR/nomad-server and start again"
}

start_nomad() {
  mkdir -p "$STATE_DIR"
  if ! running nomad-server; then
    nomad_answers && die "something else answers at $NOMAD_HTTP (an older testbed's dev agent? stop it with: $0 stop)"
    stop_nomad
    log "a new cluster: the server's state of an earlier start is dropped"
    rm -rf "$STATE_DIR/nomad-server"
    server_config
    start_agent nomad-server
  fi
  wait_for "nomad server" agent_answers nomad-server nomad_answers
  bootstrap_acl
  make_pause_image
  local n
  rm -f "$NETWORK_FILE"
  if bridge_filtering; then
    echo "attach=$ATTACH_ADDRESS" > "$NETWORK_FILE.new"
    for n in "${CLIENTS[@]}"; do
      sandbox_firewall apply "$n"
      echo "bridge.$n=$(bridge_name "$n")" >> "$NETWORK_FILE.new"
    done
    mv "$NETWORK_FILE.new" "$NETWORK_FILE"
  else
    log "WARNING: no br_netfilter here: no sandbox firewall, so no sandboxes in bridge mode ($NETWORK_FILE not written)"
  fi
  for n in "${CLIENTS[@]}"; do start_client "$n" quiet; done
  wait_for "nomad clients with a healthy docker driver" nomad_up
}

make_pause_image() {
  docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1 && return
  log "making $PAUSE_IMAGE"
  printf 'FROM %s\nCMD ["sleep", "infinity"]\n' "$BASE_IMAGE" | docker build -q -t "$PAUSE_IMAGE" - >/dev/null 2>&1 \
    || die "could not build $PAUSE_IMAGE from $BASE_IMAGE"
}

# Whether packets bridged between sandboxes pass iptables (br_netfilter), which the firewall needs.
bridge_filtering() {
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] || modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 2>/dev/null
}

# Applies ($1 = apply) or removes ($1 = remove) the sandbox firewall of client $2's bridge.
sandbox_firewall() {
  if [[ "$1" == apply ]]; then
    "$REPO/scripts/sandbox-firewall.sh" apply --bridge "$(bridge_name "$2")" --attach "$ATTACH_ADDRESS" --loopback
  else
    "$REPO/scripts/sandbox-firewall.sh" remove --bridge "$(bridge_name "$2")"
    ip link del "$(bridge_name "$2")" 2>/dev/null || true
  fi
}

# Starts client N unless it runs; "quiet" skips waiting for it.
start_client() {
  local n=$1
  [[ " ${CLIENTS[*]} " == *" $n "* ]] || die "no client $n (there are ${CLIENTS[*]})"
  if ! running "nomad-client-$n"; then
    forget_client "$n"
    client_config "$n"
    start_agent "nomad-client-$n"
  fi
  [[ "${2:-}" == quiet ]] || wait_for "nomad client $n" nomad_up "${#CLIENTS[@]}"
}

# Drops what stopped client N kept of its allocations (its node identity stays), and removes their
# containers: it starts as a machine that lost its disk would, and restores nothing.
forget_client() {
  local dir="$STATE_DIR/nomad-client-$1" allocations
  unmount_under "$dir/"
  if [[ -d "$dir/alloc" ]]; then
    allocations=$(find "$dir/alloc" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
    if [[ -n "$allocations" ]] && docker_up; then
      local alloc
      for alloc in $allocations; do
        docker ps -aq --filter "label=com.hashicorp.nomad.alloc_id=$alloc"
      done | xargs -r docker rm -f >/dev/null
    fi
  fi
  rm -rf "$dir/alloc" "$dir/client/state.db"
}

# Lazily unmounts every mount under directory $1 (deepest first).
unmount_under() {
  awk -v dir="$1" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l
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

stop_nomad() {
  local n
  for n in "${CLIENTS[@]}"; do stop_pid "nomad-client-$n"; done
  stop_pid nomad-server
  # The single dev agent of earlier versions of this script.
  stop_pid nomad
  for n in "${CLIENTS[@]}"; do sandbox_firewall remove "$n"; done
  rm -f "$NETWORK_FILE"
  # A client unmounts an allocation's secrets and private dirs only when it collects the allocation,
  # so a stopped client leaves them mounted: take them down with it.
  unmount_under "$STATE_DIR/"
}

stop_pid() {
  local name=$1 file="$STATE_DIR/$1.pid" pid i
  if running "$name"; then
    pid=$(cat "$file")
    log "stopping $name (pid $pid)"
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do running "$name" || break; sleep 0.5; done
    if running "$name"; then kill -KILL "$pid" 2>/dev/null || true; fi
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
  log "ready in $((SECONDS - started)) s: NOMAD_ADDR=$NOMAD_HTTP NOMAD_TOKEN=\$(cat $TOKEN_FILE)"
}

status() {
  if docker_up; then log "dockerd: running"; else log "dockerd: not running"; fi
  if nomad_up; then log "nomad: a server and ${#CLIENTS[@]} clients at $NOMAD_HTTP (token: $TOKEN_FILE)"; else log "nomad: not running"; fi
  if [[ -x "$NOMAD_BIN" ]]; then log "nomad $NOMAD_VERSION binary: $NOMAD_BIN"; else log "nomad binary: not built"; fi
  if docker_up && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then log "$BASE_IMAGE: present"; fi
  docker_up && nomad_up
}

case "${1:-}" in
  start) start ;;
  stop) stop_nomad; stop_pid dockerd ;;
  start-nomad) start_nomad ;;
  stop-nomad) stop_nomad ;;
  stop-client) stop_pid "nomad-client-${2:?which client}" ;;
  start-client) start_client "${2:?which client}" ;;
  status) status ;;
  build-nomad) build_nomad ;;
  nomad) shift; [[ -x "$NOMAD_BIN" ]] || die "no Nomad binary: $0 build-nomad"
    NOMAD_ADDR=$NOMAD_HTTP NOMAD_TOKEN=$(cat "$TOKEN_FILE") exec "$NOMAD_BIN" "$@" ;;
  *) echo "usage: $0 start|status|stop|start-nomad|stop-nomad|stop-client N|start-client N|build-nomad|nomad ARGS..." >&2; exit 2 ;;
esac
