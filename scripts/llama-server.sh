#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` (and `llama-batched-bench`) from the llama.cpp sources vendored
# in the llama-cpp-python 0.3.36 sdist from PyPI, once per machine, and prints the folder of the
# binaries. The one way every benchmark and test of kb gets llama.cpp's server; nothing of
# llama.cpp is committed.
#
# Cached outside the checkout in ${KB_CACHE:-~/.cache/kb}/llama-server-<version>-<cpu flags hash>,
# so a re-run on the same machine skips the build (about 10 minutes on 2 cores) while a fresh
# machine, or another CPU (GGML_NATIVE=ON builds for the CPU it runs on), builds it.
# usage: scripts/llama-server.sh          -> prints e.g. ~/.cache/kb/llama-server-0.3.36-1a2b3c4d/bin
set -euo pipefail
version=0.3.36
flags="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|f16c|sse|bmi|amx)' | sort | tr '\n' ' ' | sha256sum | cut -c1-8)"
cache="${KB_CACHE:-$HOME/.cache/kb}/llama-server-$version-$flags"
if [ -x "$cache/bin/llama-server" ] && [ -x "$cache/bin/llama-batched-bench" ]; then
  echo "$cache/bin"
  exit 0
fi
mkdir -p "$cache"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
{
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet "cmake<4" ninja scikit-build-core
  "$work/venv/bin/pip" download --quiet --no-deps --no-binary :all: --no-build-isolation -d "$work" "llama-cpp-python==$version"
  tar -xzf "$work"/llama_cpp_python-$version.tar.gz -C "$work"
  src="$work/llama_cpp_python-$version/vendor/llama.cpp"
  PATH="$work/venv/bin:$PATH" cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=ON
  PATH="$work/venv/bin:$PATH" cmake --build "$work/build" --target llama-server llama-batched-bench
  mkdir -p "$cache/bin.tmp"
  cp "$work/build/bin/llama-server" "$work/build/bin/llama-batched-bench" "$cache/bin.tmp/"
  rm -rf "$cache/bin" && mv "$cache/bin.tmp" "$cache/bin"
} >&2
echo "$cache/bin"
