#!/usr/bin/env bash
# Nomad Shell testbed: a real Ollama server, CPU only, for the Ollama tests (RealOllamaTest in e2e).
#
#   testbed/ollama-testbed.sh build    build ollama once (cached) from the Go module proxy
#   testbed/ollama-testbed.sh paths    print OLLAMA=... (for `eval`)
#
# Nothing can be downloaded here but from package registries; Ollama is a Go module whose source
# vendors llama.cpp and ggml, and a plain `go build` compiles ggml's CPU backend through cgo into the
# binary (the GPU backends are cmake builds of their own, which we skip). The module proxy's zip
# leaves out llama.cpp's own vendor/ directory (Go drops vendor/ trees from module zips), so its
# third-party headers (nlohmann/json, stb_image, miniaudio) come from the llama.cpp tree in the
# `llama-cpp-python` sdist on PyPI, as in testbed/llama-testbed.sh. The models come from
# testbed/llama-testbed.sh: `ollama create` imports a GGUF file offline. The tests start and stop
# their own servers (OllamaServer in e2e).
set -euo pipefail

OLLAMA_VERSION=0.17.4
LLAMA_CPP_PYTHON_VERSION=0.3.36

CACHE_DIR=${NOMAD_SHELL_CACHE_DIR:-/var/cache/nomad-shell}
OLLAMA_DIR="$CACHE_DIR/ollama-$OLLAMA_VERSION"
OLLAMA="$OLLAMA_DIR/ollama"

log() { printf '[ollama-testbed] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

build_ollama() {
  if [[ -x "$OLLAMA" ]]; then
    log "ollama $OLLAMA_VERSION: cached at $OLLAMA"
    return
  fi
  command -v go >/dev/null && command -v g++ >/dev/null || die "go and g++ are needed to build Ollama"
  python3 -m pip --version >/dev/null 2>&1 || die "pip is needed to fetch from PyPI (apt-get install python3-pip)"
  log "building ollama $OLLAMA_VERSION from the Go module proxy (once; about 3 min on 2 cores)"
  local src work
  src=$(GOTOOLCHAIN=local go mod download -json "github.com/ollama/ollama@v$OLLAMA_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d "$src" ]] || die "could not fetch the Ollama module from the Go module proxy"
  mkdir -p "$CACHE_DIR"
  # Always the same directory: cgo's compile flags name it, so a build run again after a failure
  # finds what it compiled in Go's build cache.
  work="$CACHE_DIR/ollama-build.work"
  mkdir -p "$work"
  cp -r "$src/." "$work/src"
  chmod -R u+w "$work/src"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check --no-binary :all: \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$work"
  tar -xzf "$work"/llama_cpp_python-*.tar.gz -C "$work" --wildcards --strip-components=3 \
    '*/vendor/llama.cpp/vendor/nlohmann/*' '*/vendor/llama.cpp/vendor/stb/*' '*/vendor/llama.cpp/vendor/miniaudio/*'
  mv "$work/vendor" "$work/src/llama/llama.cpp/vendor"
  # For this machine's CPU, as llama-testbed.sh builds llama-server (cgo would build for the baseline
  # x86-64 otherwise, several times slower); these CPUs report AMX, and ggml's AMX path crashes on
  # them: compile the CPU backend without it.
  local flags="-O2 -march=native -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  (cd "$work/src" && GOTOOLCHAIN=local CGO_ENABLED=1 CGO_CFLAGS="$flags" CGO_CXXFLAGS="$flags" \
      go build -trimpath -ldflags "-w -s -X=github.com/ollama/ollama/version.Version=$OLLAMA_VERSION" \
      -o "$work/ollama" .) > "$work/build.log" 2>&1 \
    || die "building ollama failed: see $work/build.log"
  mkdir -p "$OLLAMA_DIR"
  mv "$work/ollama" "$OLLAMA"
  rm -rf "$work"
  log "ollama built: $OLLAMA"
}

print_paths() {
  echo "OLLAMA=$OLLAMA"
}

# One build at a time (CI and a developer may both run setup); what an interrupted one left behind
# is removed under the lock.
build() {
  mkdir -p "$CACHE_DIR"
  exec 8>"$CACHE_DIR/ollama-testbed.lock"
  flock 8
  rm -rf "$CACHE_DIR"/ollama-build.*
  build_ollama
  print_paths
}

case "${1:-}" in
  build) build ;;
  paths) print_paths ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
