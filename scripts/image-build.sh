# Sourced (bash) by sandbox-image/build.sh and server-image/build.sh: the steps both image builds take.
# The caller defines log(), sets $context (its build context, a temporary directory), $CACHE_DIR and
# $JAVA_HOME (a JDK from scripts/find-jdk.sh).

# docker build, its output shown only when it fails (on success the legacy builder's deprecation
# notice is all it says; BuildKit is not installed here). Host network: dockerd here has no bridge,
# and apt must reach the package registry.
docker_build() {
  docker build -q --network host "$@" >/dev/null 2>"$context/docker-build.log" \
    || { cat "$context/docker-build.log" >&2; log "docker build failed"; exit 1; }
}

# Prints the home of a Java runtime holding the modules $1 (comma-separated), made with jlink from
# $JAVA_HOME with the further jlink options given, and cached by JDK version, modules and options.
cached_jre() {
  local modules=$1 jdk_version jre
  shift
  jdk_version=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
  jre="$CACHE_DIR/jre-$jdk_version-$(printf '%s' "$modules${*:+ $*}" | sha256sum | cut -c1-12)"
  if [[ ! -x "$jre/bin/java" ]]; then
    log "making a Java runtime with jlink ($modules)"
    mkdir -p "$CACHE_DIR"
    rm -rf "$jre.tmp"
    "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files "$@" \
      --output "$jre.tmp" >&2
    mv "$jre.tmp" "$jre"
  fi
  echo "$jre"
}

# Makes $1/agent-daemon.aot, the AOT cache of the daemon in $1 (agent-daemon.jar, lib/ and
# agent-daemon.jvm-options) for the runtime at $2. An AOT cache is used only by the runtime that made
# it, from the very files it was made from (the JVM checks their modification times, which COPY
# keeps): a training run of the daemon against a control plane of its own.
train_daemon_aot() {
  local dir=$1 java=$2/bin/java
  log "making the daemon's AOT cache"
  (cd "$dir" && "$java" --enable-native-access=ALL-UNNAMED -cp agent-daemon.jar \
    io.nomadshell.daemon.training.AotTraining \
    "$java" @agent-daemon.jvm-options -XX:AOTCacheOutput=agent-daemon.aot -jar agent-daemon.jar \
    >"$context/aot-training.log" 2>&1) || { cat "$context/aot-training.log" >&2; log "the AOT training run failed"; exit 1; }
}
