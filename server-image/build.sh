#!/usr/bin/env bash
# Builds the server image (and the Redis image compose.yaml and the Nomad job run beside it) from this
# folder's Dockerfile and the jars of a Maven build (./mvnw package, or ./nomad-shell's first run).
#
#   server-image/build.sh [--tag nomad-shell:local] [--redis-tag nomad-shell-redis:local] [--toolset]
#
#   --toolset   build on the sandbox image's package layers (sandbox-image/build.sh --base-only)
#               instead of bare Debian, tagged nomad-shell:toolset unless --tag says otherwise: local
#               sandboxes see the server's /usr, so this gives them the sandbox image's tools
#               (compilers, Jupyter, a desktop). Only the local launcher needs it.
#
# The Java runtime is made here with jlink from a JDK found as ./nomad-shell finds one
# (scripts/find-jdk.sh), cached by JDK version. The daemon's AOT cache is made with that runtime.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
TAG=
REDIS_TAG=nomad-shell-redis:local
BASE=debian:bookworm-slim
CACHE_DIR=${NOMAD_SHELL_CACHE_DIR:-/var/cache/nomad-shell}
# A fixed list rather than jdeps: the server's hundred-odd libraries take jdeps a minute, and reach
# some modules only by reflection or ServiceLoader, which jdeps cannot see. java.se and the JDK
# modules they use: JFR and management (metrics), the HTTP server (the scripted model), DNS naming,
# zip file systems, sun.misc.Unsafe (Netty, gRPC).
MODULES=java.se,jdk.unsupported,jdk.management,jdk.jfr,jdk.httpserver,jdk.naming.dns,jdk.zipfs,jdk.crypto.ec

while (($#)); do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --redis-tag) REDIS_TAG=$2; shift 2 ;;
    --toolset) BASE=nomad-shell-sandbox-base:local; shift ;;
    *) echo "usage: $0 [--tag NAME:TAG] [--redis-tag NAME:TAG] [--toolset]" >&2; exit 2 ;;
  esac
done
if [[ -z "$TAG" ]]; then
  TAG=nomad-shell:local
  [[ "$BASE" == debian:* ]] || TAG=nomad-shell:toolset
fi

log() { printf '[server-image] %s\n' "$*" >&2; }
# docker_build, cached_jre, train_daemon_aot
source "$REPO/scripts/image-build.sh"

CLI_JAR="$REPO/cli/target/nomad-shell.jar"
DAEMON_JAR="$REPO/agent-daemon/target/agent-daemon.jar"
for jar in "$CLI_JAR" "$DAEMON_JAR"; do
  [[ -f "$jar" && -d "$(dirname "$jar")/lib" ]] \
    || { log "no $jar with lib/ beside it: build first (./mvnw -B package -Dmaven.test.skip=true)"; exit 1; }
done
[[ -f "$REPO/agent-daemon/target/agent-daemon.jvm-options" ]] || { log "no agent-daemon.jvm-options: build agent-daemon again"; exit 1; }
if [[ "$BASE" != debian:* ]] && ! docker image inspect "$BASE" >/dev/null 2>&1; then
  log "no $BASE: making it (sandbox-image/build.sh --base-only)"
  "$REPO/sandbox-image/build.sh" --base-only
fi

source "$REPO/scripts/find-jdk.sh"
JAVA_HOME=$(find_jdk) || { log "refusing to build: no JDK >= $JDK_MIN (see above)"; exit 1; }
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$REPO/pom.xml" | head -n1)
revision=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)

context=$(mktemp -d /tmp/nomad-shell-server-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$HERE/Dockerfile" "$HERE/nomad-shell" "$context/"

# With the JDK's class data sharing archive: the server starts faster.
jre=$(cached_jre "$MODULES" --generate-cds-archive)
# -p: the same modification times every build, so Docker reuses the runtime's layer.
cp -rp "$jre" "$context/jre"

# Each jar folder as the Maven build left it, then its lib/ split: third-party jars change rarely,
# the project's own (named *-<version>.jar) with every build.
split_lib() {
  local dir=$1
  mkdir -p "$dir/lib-deps" "$dir/lib-project"
  find "$dir/lib" -maxdepth 1 -name "*-$version.jar" -exec mv -t "$dir/lib-project" {} +
  mv "$dir/lib/"* "$dir/lib-deps/" 2>/dev/null || true
  rmdir "$dir/lib"
}
mkdir -p "$context/cli" "$context/daemon"
cp -p "$CLI_JAR" "$context/cli/"
cp -rp "$(dirname "$CLI_JAR")/lib" "$context/cli/lib"
split_lib "$context/cli"

daemon="$context/daemon"
cp -p "$DAEMON_JAR" "$REPO/agent-daemon/target/agent-daemon.jvm-options" "$daemon/"
cp -rp "$(dirname "$DAEMON_JAR")/lib" "$daemon/lib"
# Local sandboxes run the daemon with the server's runtime, so the cache is that runtime's.
train_daemon_aot "$daemon" "$context/jre"
split_lib "$daemon"

log "building $REDIS_TAG"
docker_build --target redis --build-arg "VERSION=$version" -t "$REDIS_TAG" "$context"
log "building $TAG (on $BASE)"
docker_build --target server --build-arg "BASE=$BASE" --build-arg "VERSION=$version" \
  --build-arg "REVISION=$revision" -t "$TAG" "$context"
# The images these tags named before, now untagged, are of no use.
docker image prune -f --filter "label=org.opencontainers.image.title=nomad-shell" >/dev/null
docker image prune -f --filter "label=org.opencontainers.image.title=nomad-shell-redis" >/dev/null
log "built $TAG and $REDIS_TAG"
