#!/usr/bin/env bash
# Builds llama-cpp-python 0.3.36 for the CPU it runs on (GGML_NATIVE=ON: AVX-512 where the CPU has
# it) into a virtual environment cached outside the checkout, once per machine, and prints its
# python. For comparing kb with llama.cpp built for the machine (scripts/compare-with-llamacpp.py,
# bench/generate.sh with PYTHON set); .venv-llm's llama.cpp is built for AVX2, which kb reproduces
# to the bit.
# Cached in ${KB_CACHE:-~/.cache/kb}/llama-cpp-python-native-<version>-<cpu flags hash>.
# usage: PYTHON="$(scripts/llama-cpp-python-native.sh)"
set -euo pipefail
version=0.3.36
flags="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|f16c|sse|bmi|amx)' | sort | tr '\n' ' ' | sha256sum | cut -c1-8)"
cache="${KB_CACHE:-$HOME/.cache/kb}/llama-cpp-python-native-$version-$flags"
# Usable when it imports and, on a CPU with AVX-512, its llama.cpp was built with AVX-512.
usable='import llama_cpp, numpy; cpu = open("/proc/cpuinfo", "rb").read(); assert b"avx512f" not in cpu or b"AVX512" in llama_cpp.llama_print_system_info()'
if [ -x "$cache/venv/bin/python" ] && "$cache/venv/bin/python" -c "$usable" 2>/dev/null; then
  echo "$cache/venv/bin/python"
  exit 0
fi
rm -rf "$cache"
mkdir -p "$cache"
{
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet "cmake<4" ninja scikit-build-core numpy
  # --no-cache-dir: pip would otherwise reuse a wheel it built before with other flags.
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$cache/venv/bin/pip" install --quiet --no-cache-dir --no-binary llama-cpp-python \
    --no-build-isolation "llama-cpp-python==$version"
} >&2
echo "$cache/venv/bin/python"
