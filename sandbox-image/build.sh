#!/usr/bin/env bash
# Builds the sandbox image from this folder's Dockerfile and the agent daemon of a Maven build.
#
#   sandbox-image/build.sh [--jar agent-daemon/target/agent-daemon.jar] [--tag nomad-shell-sandbox:local]
#   sandbox-image/build.sh --base-only     only the package layers (warms Docker's cache)
#   sandbox-image/build.sh --check-jdk     only find the JDK (as ./nomad-shell does) and print its home
#
# The daemon's Java runtime is made here with jlink from a JDK at least as new as the daemon's Java
# release (22: it uses java.lang.foreign), found as ./nomad-shell finds one (scripts/find-jdk.sh):
# $JAVA_HOME, the `java` on PATH, /usr/lib/jvm/*. The runtime holds only the modules the daemon needs,
# and is cached by JDK version and module list.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
JAR="$REPO/agent-daemon/target/agent-daemon.jar"
TAG=nomad-shell-sandbox:local
BASE_ONLY=
CHECK_JDK=
CACHE_DIR=${NOMAD_SHELL_CACHE_DIR:-/var/cache/nomad-shell}

while (($#)); do
  case "$1" in
    --jar) JAR=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --base-only) BASE_ONLY=1; shift ;;
    --check-jdk) CHECK_JDK=1; shift ;;
    *) echo "usage: $0 [--jar PATH] [--tag NAME:TAG] [--base-only | --check-jdk]" >&2; exit 2 ;;
  esac
done

log() { printf '[sandbox-image] %s\n' "$*" >&2; }
# docker_build, cached_jre, train_daemon_aot
source "$REPO/scripts/image-build.sh"

# Before anything is built: an image whose daemon cannot start (UnsupportedClassVersionError) is worse
# than none.
source "$REPO/scripts/find-jdk.sh"
if [[ -z "$BASE_ONLY" ]]; then
  JAVA_HOME=$(find_jdk) || { log "refusing to build: no JDK >= $JDK_MIN for the daemon's runtime (see above)"; exit 1; }
  if [[ -n "$CHECK_JDK" ]]; then
    echo "$JAVA_HOME"
    exit 0
  fi
fi

context=$(mktemp -d /tmp/nomad-shell-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp -r "$HERE/Dockerfile" "$HERE/packages" "$context/"
# The host's own extra CAs (a TLS-inspecting proxy's, say): package registries must be reachable
# from the build as they are from the host.
mkdir -p "$context/build-ca"
find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$context/build-ca/" \; 2>/dev/null || true

if [[ -n "$BASE_ONLY" ]]; then
  log "building the package layers"
  docker_build --target base -t nomad-shell-sandbox-base:local "$context"
  exit 0
fi

[[ -f "$JAR" && -d "$(dirname "$JAR")/lib" ]] || { log "no daemon jar with lib/ at $JAR: build agent-daemon first"; exit 1; }

lib=$(dirname "$JAR")/lib
# jdeps finds what the classes use; jdk.unsupported: gRPC's Netty reaches for sun.misc.Unsafe by
# reflection, which jdeps cannot see.
modules=$("$JAVA_HOME/bin/jdeps" --multi-release 21 --ignore-missing-deps --print-module-deps --recursive \
  --class-path "$lib/*" "$JAR" 2>/dev/null | tail -n1),jdk.unsupported
[[ "$modules" == java.base* ]] || { log "jdeps could not list the daemon's modules"; exit 1; }
jre=$(cached_jre "$modules")
cp -r "$jre" "$context/jre"
options=$(dirname "$JAR")/agent-daemon.jvm-options
[[ -f "$options" ]] || { log "no agent-daemon.jvm-options beside $JAR: build agent-daemon again"; exit 1; }
daemon="$context/agent-daemon"
mkdir -p "$daemon"
cp "$JAR" "$daemon/agent-daemon.jar"
cp -r "$lib" "$daemon/lib"
cp "$options" "$daemon/agent-daemon.jvm-options"
# Not the Maven build's AOT cache: that one is its JDK's.
train_daemon_aot "$daemon" "$context/jre"

version=$(unzip -p "$JAR" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Implementation-Version: *//p' | tr -d '\r')
log "building $TAG"
docker_build --build-arg "VERSION=${version:-dev}" -t "$TAG" "$context"
# The image this tag named before, now untagged, is of no use.
docker image prune -f --filter "label=org.opencontainers.image.title=nomad-shell-sandbox" >/dev/null
log "built $TAG"
